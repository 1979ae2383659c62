// Browsers and the vendors' SDKs as callers of /graphql: the session cookie (with CSRF checks for
// what a browser attaches on its own) and an API token as one Bearer string (createApiToken's secretKey).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { createIdentity } from '../support/sessions.js';
import { adminSecretKey, newSession, secretKeyFor } from '../support/vendors.js';

describe.each(databaseTargets)('cookie and secretKey callers on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target, { env: { SESSION_COOKIE: 'sg_session' } });
  });
  afterAll(() => t?.dispose());

  const get = (query: string, headers: Record<string, string>) =>
    t.app.fetch(`http://sessiongraph.test/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/json', ...headers } });

  it('takes the session cookie as the session, and wants the CSRF header on a GET it authenticates', async () => {
    const identityId = await createIdentity(t, {});
    const session = await newSession(t, identityId);
    const cookie = `other=1; sg_session=${session.token}`;
    const posted = await t.graphql<{ viewer: { session: { id: string } } }>('{ viewer { session { id } } }', {}, { authorization: '', cookie });
    expect(posted.data!.viewer.session.id).toBe(session.id);
    const bare = await get('{ viewer { session { id } } }', { cookie });
    expect(bare.status).toBe(403);
    const withHeader = await get('{ viewer { session { id } } }', { cookie, 'x-graphql-yoga-csrf': '1' });
    expect(await withHeader.json()).toEqual({ data: { viewer: { session: { id: session.id } } } });
    // A form post carrying the cookie is refused before anything runs.
    const form = await t.app.fetch('http://sessiongraph.test/graphql', { method: 'POST', headers: { 'content-type': 'text/plain', cookie }, body: '{"query":"{ __typename }"}' });
    expect(form.status).toBe(403);
    expect(((await form.json()) as { errors: { message: string; extensions: { code: string } }[] }).errors[0]).toMatchObject({
      message: expect.stringContaining('x-graphql-yoga-csrf'),
      extensions: { code: 'CSRF_HEADER_REQUIRED' },
    });
    // Another cookie name is no credential; a bad cookie token is refused like a bad Bearer.
    expect((await t.graphql('{ viewer { session { id } } }', {}, { authorization: '', cookie: `ory_kratos_session=${session.token}` })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t.graphql('{ __typename }', {}, { authorization: '', cookie: 'sg_session=sgs_wrong' })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('lets no other origin call with the cookie unless CORS_CREDENTIALED_ORIGINS names it', async () => {
    const preflight = (app: TestApp, origin: string) =>
      app.app.fetch('http://sessiongraph.test/graphql', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const open = await preflight(t, 'https://evil.example');
    expect(open.headers.get('access-control-allow-credentials')).toBeNull();
    const listed = await createTestApp(target, { env: { CORS_CREDENTIALED_ORIGINS: 'https://app.example.com' } });
    try {
      const allowed = await preflight(listed, 'https://app.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      expect((await preflight(listed, 'https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    } finally {
      await listed.dispose();
    }
  });

  it('accepts an API token as Bearer <secretKey>, shown once by createApiToken, and Basic as before', async () => {
    const readKey = await secretKeyFor(t, 'READ');
    expect(readKey).toMatch(/^sgk_[\w-]{20}\.sgs_/);
    const read = await t.graphql<{ viewer: { apiClient: { scope: string } } }>('{ viewer { apiClient { scope } } }', {}, { authorization: `Bearer ${readKey}` });
    expect(read.data!.viewer.apiClient.scope).toBe('READ');
    const admin = await t.graphql<{ viewer: { apiClient: null } }>('{ viewer { apiClient { scope } } }', {}, { authorization: `Bearer ${adminSecretKey}` });
    expect(admin.errors).toBeUndefined();
    const wrong = await t.graphql('{ viewer { apiClient { scope } } }', {}, { authorization: `Bearer ${readKey.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}` });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const tokens = await t.graphql<{ apiTokens: { tokenId: string }[] }>('{ apiTokens { tokenId } }');
    expect(tokens.data!.apiTokens.map((token) => token.tokenId)).toContain(readKey.split('.')[0]);
  });
});
