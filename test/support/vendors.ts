// The vendor routes as their SDKs reach them: the test app on a real HTTP server (port 0), API
// tokens in the SDKs' one-string form, and vendor records imported from the fixtures.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { startHttpServer, type RunningServer } from '../../src/http/listener.js';
import { createLogger } from '../../src/logger.js';
import { testAdminToken, type TestApp } from './app.js';

/** The built-in admin token as Clerk's secretKey / Kratos' admin access token. */
export const adminSecretKey = `admin.${testAdminToken}`;

export function serve(t: TestApp): Promise<RunningServer> {
  return startHttpServer(t.app, { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 2000, logger: createLogger('error', () => {}) });
}

/** A new API token's secretKey (shown once by createApiToken). */
export async function secretKeyFor(t: TestApp, scope: 'ADMIN' | 'READ'): Promise<string> {
  const result = await t.graphql<{ createApiToken: { secretKey: string } }>(
    'mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { secretKey } }',
    { input: { name: `vendor ${scope}`, scope } },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createApiToken.secretKey;
}

export async function importFixture(t: TestApp, from: 'KRATOS' | 'CLERK' | 'GRID', file: string): Promise<void> {
  const document = JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')) as unknown;
  const result = await t.graphql('mutation ($input: ImportSessionsInput!) { importSessions(input: $input) { sessionsCreated } }', { input: { from, document } });
  expect(result.errors).toBeUndefined();
}

/** A session made by an admin, with no signing key unless given one; its id and bearer token. */
export async function newSession(t: TestApp, identityId: string, input: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const result = await t.graphql<{ createSession: { session: { id: string }; sessionToken: string } }>(
    'mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id } sessionToken } }',
    { input: { identityId, type: 'PASSWORD', expiresAt: new Date(Date.now() + 3_600_000).toISOString(), ...input } },
  );
  expect(result.errors).toBeUndefined();
  return { id: result.data!.createSession.session.id, token: result.data!.createSession.sessionToken };
}
