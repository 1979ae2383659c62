// Clerk's Backend API driven by the real @clerk/backend: sessions, session tokens and verifyToken
// against the JWKS route, over HTTP.
import { createClerkClient, verifyToken } from '@clerk/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/http/listener.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { createIdentity } from '../support/sessions.js';
import { adminSecretKey, importFixture, newSession, secretKeyFor, serve } from '../support/vendors.js';

type ClerkError = { status: number; errors: { code: string; message: string; longMessage?: string }[] };

async function refusal(call: Promise<unknown>): Promise<ClerkError> {
  try {
    await call;
  } catch (error) {
    if ((error as ClerkError).errors) return error as ClerkError;
    throw error;
  }
  throw new Error('the call succeeded');
}

const clerkUser = 'user_2pQmV1aBcD2eF3gH4iJ5kL6mN7';
const clerkActive = 'sess_2pQmW8xYzA1bC3dE4fG5hI6jK7';
const clerkRevoked = 'sess_2pQmR6qPoN5mL4kJ3iH2gF1eD0';

describe.each(databaseTargets)('Clerk routes through @clerk/backend on $name', (target) => {
  let t: TestApp;
  let server: RunningServer;
  let apiUrl: string;
  const clerk = (secretKey: string) => createClerkClient({ secretKey, apiUrl });

  beforeAll(async () => {
    t = await createTestApp(target);
    server = await serve(t);
    apiUrl = `${server.url}/clerk`;
    await importFixture(t, 'CLERK', 'clerk-sessions.json');
    await importFixture(t, 'KRATOS', 'kratos-sessions.json');
  });
  afterAll(async () => {
    await server?.stop();
    await t?.dispose();
  });

  it('lists a user\'s sessions newest first under Clerk\'s ids, with the total', async () => {
    const { data, totalCount } = await clerk(adminSecretKey).sessions.getSessionList({ userId: clerkUser });
    expect(totalCount).toBe(2);
    expect(data.map((s) => [s.id, s.userId, s.status])).toEqual([
      [clerkActive, clerkUser, 'active'],
      [clerkRevoked, clerkUser, 'revoked'],
    ]);
    expect(data[0]!.lastActiveAt).toBe(1795300000000);
    expect(data[0]!.lastActiveOrganizationId).toBe('org_2pQmT8sRqP7oN6mL5kJ4iH3gF2');
    const page = await clerk(adminSecretKey).sessions.getSessionList({ userId: clerkUser, status: 'revoked', limit: 1 });
    expect(page.data.map((s) => s.id)).toEqual([clerkRevoked]);
    expect((await clerk(adminSecretKey).sessions.getSessionList({ userId: clerkUser, limit: 1, offset: 1 })).data.map((s) => s.id)).toEqual([clerkRevoked]);
    const byClient = await clerk(adminSecretKey).sessions.getSessionList({ clientId: 'client_2pQmU9zYxW8vU7tS6rQ5pO4nM3' });
    expect(byClient.data.map((s) => s.id)).toEqual([clerkActive]);
  });

  it('reads a session imported from Kratos by its Kratos uuid, shown under our id', async () => {
    const got = await clerk(adminSecretKey).sessions.getSession('4a1c2e3f-5b6d-4e7f-8a9b-0c1d2e3f4a5b');
    expect(got).toMatchObject({ id: 'Session:4a1c2e3f-5b6d-4e7f-8a9b-0c1d2e3f4a5b', userId: expect.stringMatching(/^Identity:/), status: 'active' });
    const { data } = await clerk(adminSecretKey).sessions.getSessionList({ userId: '7f3b5d0e-2a61-4c1e-9a8b-5d2f0c4e6a11' });
    expect(data.map((s) => s.id)).toContain(got.id);
  });

  it('serves sessions made here under our ids, with content-type exactly application/json', async () => {
    const identityId = await createIdentity(t, { email: 'clerk@example.com' });
    const session = await newSession(t, identityId, { clientId: 'client_here', devices: [{ userAgent: 'Mozilla/5.0 (iPhone)', ipAddress: '198.51.100.4' }] });
    const got = await clerk(adminSecretKey).sessions.getSession(session.id);
    expect(got).toMatchObject({ id: session.id, userId: identityId, clientId: 'client_here', status: 'active' });
    expect(got.latestActivity).toMatchObject({ ipAddress: '198.51.100.4', isMobile: true });
    const { data } = await clerk(adminSecretKey).sessions.getSessionList({ userId: identityId });
    expect(data.map((s) => s.id)).toEqual([session.id]);
    const raw = await fetch(`${apiUrl}/v1/sessions/${encodeURIComponent(session.id)}`, { headers: { authorization: `Bearer ${adminSecretKey}` } });
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(await raw.json()).toMatchObject({ object: 'session', id: session.id, user_id: identityId, expire_at: expect.any(Number) });
  });

  it('mints session tokens, with and without a template, that verifyToken accepts through the JWKS route', async () => {
    const template = await t.graphql('mutation { createJwtTemplate(input: { name: "clerk-tpl", claims: { plan: "gold" } }) { template { name } } }');
    expect(template.errors).toBeUndefined();
    const sessions = clerk(adminSecretKey).sessions;
    const plain = await sessions.getToken(clerkActive);
    const claims = await verifyToken(plain.jwt, { secretKey: adminSecretKey, apiUrl });
    expect(claims).toMatchObject({ sid: expect.stringMatching(/^Session:/), iss: 'sessiongraph' });
    const templated = await sessions.getToken(clerkActive, 'clerk-tpl');
    expect(await verifyToken(templated.jwt, { secretKey: adminSecretKey, apiUrl })).toMatchObject({ plan: 'gold' });
    // A token tampered with, or verified against another server's keys, does not verify.
    const [header, payload, signature] = plain.jwt.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sid: 'Session:00000000-0000-4000-8000-000000000000' })).toString('base64url')}.${signature}`;
    await expect(verifyToken(forged, { secretKey: adminSecretKey, apiUrl })).rejects.toMatchObject({ reason: 'token-invalid-signature' });
    expect((await sessions.verifySession(clerkActive, plain.jwt)).id).toBe(clerkActive);
    expect((await refusal(sessions.getToken(clerkActive, 'no-such-template'))).status).toBe(404);
    expect((await refusal(sessions.getToken(clerkRevoked))).errors[0]!.code).toBe('session_not_active');
  });

  it('revokes a session once, recording who did it', async () => {
    const identityId = await createIdentity(t, {});
    const session = await newSession(t, identityId);
    const revoked = await clerk(adminSecretKey).sessions.revokeSession(session.id);
    expect(revoked).toMatchObject({ id: session.id, status: 'revoked' });
    const again = await refusal(clerk(adminSecretKey).sessions.revokeSession(session.id));
    expect(again.status).toBe(400);
    expect(again.errors[0]!.code).toBe('session_not_active');
    const event = await t.db.prisma.sessionEvent.findFirst({ where: { sessionId: session.id.slice(8), type: 'SESSION_REVOKED' } });
    expect(event?.actorApiClientId).toBe('admin');
  });

  it('answers Clerk\'s errors for a missing filter, unknown ids, wrong secrets, scopes and callers', async () => {
    const missing = await refusal(clerk(adminSecretKey).sessions.getSessionList({}));
    expect(missing.status).toBe(422);
    expect(missing.errors[0]!.code).toBe('form_param_missing');
    const unknown = await refusal(clerk(adminSecretKey).sessions.getSession('sess_doesnotexist'));
    expect(unknown.status).toBe(404);
    expect(unknown.errors[0]!.code).toBe('resource_not_found');
    expect((await refusal(clerk('admin.not-the-secret').sessions.getSession(clerkActive))).status).toBe(401);
    // A Bearer that is no secret key at all is named for what the Backend API expects: a secret key.
    for (const secretKey of ['sk_test_garbage', 'admin.not-the-secret']) {
      const refused = await refusal(clerk(secretKey).sessions.getSessionList({ userId: clerkUser }));
      expect(refused.status).toBe(401);
      expect(refused.errors[0]).toMatchObject({ code: 'authentication_invalid', message: 'The secret key is invalid or revoked' });
      expect(refused.errors[0]!.longMessage).not.toMatch(/session token/);
    }
    const raw = await fetch(`${apiUrl}/v1/sessions`, { headers: { authorization: 'Bearer sk_test_garbage' } });
    expect(raw.status).toBe(401);
    expect(await raw.json()).toEqual({
      errors: [{ message: 'The secret key is invalid or revoked', long_message: expect.stringMatching(/^The secret key is invalid or revoked\./), code: 'authentication_invalid' }],
    });
    const read = clerk(await secretKeyFor(t, 'READ'));
    expect((await read.sessions.getSession(clerkActive)).id).toBe(clerkActive);
    expect((await refusal(read.sessions.revokeSession(clerkActive))).status).toBe(403);
    const identityId = await createIdentity(t, {});
    const session = await newSession(t, identityId);
    expect((await refusal(clerk(session.token).sessions.getSession(session.id))).status).toBe(403);
    await expect(verifyToken('not.a.jwt', { secretKey: adminSecretKey, apiUrl })).rejects.toBeDefined();
  });
});
