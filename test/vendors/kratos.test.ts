// Kratos' session API driven by the real @ory/client (FrontendApi, IdentityApi) over HTTP.
import { Configuration, FrontendApi, IdentityApi } from '@ory/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/http/listener.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets, pgliteTarget } from '../support/databases.js';
import { createBrowserSession, createIdentity } from '../support/sessions.js';
import { adminSecretKey, importFixture, newSession, secretKeyFor, serve } from '../support/vendors.js';

/** The status and Kratos error body of a refused call. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; error: { code: number; status: string; reason: string; id?: string } }> {
  try {
    await call;
  } catch (error) {
    const response = (error as { response?: { status: number; data: { error: never } } }).response;
    if (response) return { status: response.status, error: response.data.error };
    throw error;
  }
  throw new Error('the call succeeded');
}

const kratosIdentity = '7f3b5d0e-2a61-4c1e-9a8b-5d2f0c4e6a11';
const kratosActive = '4a1c2e3f-5b6d-4e7f-8a9b-0c1d2e3f4a5b';

describe.each(databaseTargets)('Kratos routes through @ory/client on $name', (target) => {
  let t: TestApp;
  let server: RunningServer;
  let frontend: FrontendApi;
  let admin: IdentityApi;
  const identityApi = (accessToken: string) => new IdentityApi(new Configuration({ basePath: `${server.url}/kratos`, accessToken }));

  beforeAll(async () => {
    t = await createTestApp(target);
    server = await serve(t);
    frontend = new FrontendApi(new Configuration({ basePath: `${server.url}/kratos` }));
    admin = identityApi(adminSecretKey);
    await importFixture(t, 'KRATOS', 'kratos-sessions.json');
    await importFixture(t, 'CLERK', 'clerk-sessions.json');
  });
  afterAll(async () => {
    await server?.stop();
    await t?.dispose();
  });

  it('answers toSession with Kratos\' Session, the identity header, and the level derived from the methods', async () => {
    const identityId = await createIdentity(t, { email: 'whoami@example.com' });
    const session = await newSession(t, identityId, {
      authenticationMethods: [{ method: 'PASSWORD', aal: 'AAL1' }, { method: 'TOTP', aal: 'AAL2' }],
      devices: [{ userAgent: 'Firefox/130', ipAddress: '203.0.113.7', location: 'Berlin, DE' }],
    });
    const { data, headers, status } = await frontend.toSession({ xSessionToken: session.token });
    expect(status).toBe(200);
    expect(headers['x-kratos-authenticated-identity-id']).toBe(identityId);
    expect(data).toMatchObject({
      id: session.id,
      active: true,
      authenticator_assurance_level: 'aal2',
      authentication_methods: [{ method: 'password', aal: 'aal1' }, { method: 'totp', aal: 'aal2' }],
      identity: { id: identityId, state: 'active', traits: { email: 'whoami@example.com' } },
      devices: [{ user_agent: 'Firefox/130', ip_address: '203.0.113.7', location: 'Berlin, DE' }],
    });
    expect(data.identity).not.toHaveProperty('metadata_admin');
    expect(data.tokenized).toBeUndefined();
    // The same session through GraphQL: the level is derived there too.
    const read = await t.graphql<{ session: { aal: string } }>('query ($id: ID!) { session(id: $id) { aal } }', { id: session.id });
    expect(read.data!.session.aal).toBe('AAL2');
    // Bearer and the session cookie are the same credentials.
    expect((await frontend.toSession({}, { headers: { authorization: `Bearer ${session.token}` } })).data.id).toBe(session.id);
    expect((await frontend.toSession({ cookie: `theme=dark; ory_kratos_session=${session.token}` })).data.id).toBe(session.id);
  });

  it('fills tokenized with tokenize_as, and Session.tokenized reads it afterwards', async () => {
    const created = await t.graphql('mutation { createJwtTemplate(input: { name: "kratos-tpl", claims: { email: "{{identity.traits.email}}" } }) { template { name } } }');
    expect(created.errors).toBeUndefined();
    const identityId = await createIdentity(t, { email: 'tokenize@example.com' });
    const session = await newSession(t, identityId);
    const { data } = await frontend.toSession({ xSessionToken: session.token, tokenizeAs: 'kratos-tpl' });
    expect(data.tokenized).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(data.tokenized!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sid: session.id, email: 'tokenize@example.com' });
    const read = await t.graphql<{ session: { tokenized: string } }>('query ($id: ID!) { session(id: $id) { tokenized } }', { id: session.id });
    expect(read.data!.session.tokenized).toBe(data.tokenized);
    expect((await refusal(frontend.toSession({ xSessionToken: session.token, tokenizeAs: 'no-such-template' }))).status).toBe(400);
  });

  it('answers 401 with Kratos\' error body for no, a wrong or a revoked session token', async () => {
    for (const call of [() => frontend.toSession(), () => frontend.toSession({ xSessionToken: 'sgs_not-a-token' }), () => frontend.listMySessions({ xSessionToken: 'nope' })]) {
      const { status, error } = await refusal(call());
      expect(status).toBe(401);
      expect(error).toMatchObject({ code: 401, status: 'Unauthorized', id: 'session_inactive' });
      expect(error.reason).toEqual(expect.any(String));
    }
  });

  it('lists the caller\'s other active sessions in pages with a Link header, and revokes one or all of them', async () => {
    const identityId = await createIdentity(t, { email: 'devices@example.com' });
    const current = await newSession(t, identityId);
    const others = [await newSession(t, identityId), await newSession(t, identityId), await newSession(t, identityId)];
    const first = await frontend.listMySessions({ xSessionToken: current.token, pageSize: 2 });
    expect(first.data.map((s) => s.id)).toEqual([others[2]!.id, others[1]!.id]);
    const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.link))?.[1];
    expect(next).toBeDefined();
    const pageToken = new URL(next!, server.url).searchParams.get('page_token')!;
    const second = await frontend.listMySessions({ xSessionToken: current.token, pageSize: 2, pageToken });
    expect(second.data.map((s) => s.id)).toEqual([others[0]!.id]);
    expect(String(second.headers.link)).not.toContain('rel="next"');

    expect((await frontend.disableMySession({ id: others[0]!.id, xSessionToken: current.token })).status).toBe(204);
    expect((await refusal(frontend.disableMySession({ id: current.id, xSessionToken: current.token }))).status).toBe(400);
    expect((await refusal(frontend.disableMySession({ id: 'Session:00000000-0000-4000-8000-000000000000', xSessionToken: current.token }))).status).toBe(404);
    const stranger = await newSession(t, await createIdentity(t, {}));
    expect((await refusal(frontend.disableMySession({ id: stranger.id, xSessionToken: current.token }))).status).toBe(404);

    const { data } = await frontend.disableMyOtherSessions({ xSessionToken: current.token });
    expect(data).toEqual({ count: 2 });
    expect((await frontend.listMySessions({ xSessionToken: current.token })).data).toEqual([]);
    expect((await frontend.toSession({ xSessionToken: current.token })).data.active).toBe(true);
    // A revoked session's token no longer authenticates.
    expect((await refusal(frontend.toSession({ xSessionToken: others[1]!.token }))).status).toBe(401);
    const events = await t.db.prisma.sessionEvent.findMany({ where: { identityId: identityId.slice(9), type: { in: ['SESSION_REVOKED', 'OTHER_SESSIONS_REVOKED'] } } });
    expect(events.map((e) => e.type).sort()).toEqual(['OTHER_SESSIONS_REVOKED', 'SESSION_REVOKED', 'SESSION_REVOKED', 'SESSION_REVOKED']);
    expect(events.every((e) => e.actorSessionId === current.id.slice(8))).toBe(true);
  });

  it('refuses a session holding a signing key the unsigned sign-out of others, naming the signed flow', async () => {
    const identityId = await createIdentity(t, {});
    const keyed = await createBrowserSession(t, identityId);
    const other = await newSession(t, identityId);
    for (const call of [() => frontend.disableMyOtherSessions({ xSessionToken: keyed.token }), () => frontend.disableMySession({ id: other.id, xSessionToken: keyed.token })]) {
      const { status, error } = await refusal(call());
      expect(status).toBe(403);
      expect(error.reason).toMatch(/signed flow/);
    }
    expect((await frontend.toSession({ xSessionToken: other.token })).data.active).toBe(true);
  });

  it('answers a keyed session 404 for an id it may not see, before the signed flow\'s 403', async () => {
    const identityId = await createIdentity(t, {});
    const keyed = await createBrowserSession(t, identityId);
    const stranger = await newSession(t, await createIdentity(t, {}));
    for (const id of ['00000000-0000-0000-0000-000000000000', 'Session:00000000-0000-4000-8000-000000000000', 'not-an-id', stranger.id]) {
      const { status, error } = await refusal(frontend.disableMySession({ id, xSessionToken: keyed.token }));
      expect(status).toBe(404);
      expect(error).toMatchObject({ code: 404, status: 'Not Found', message: 'The requested resource could not be found' });
      expect(error).not.toHaveProperty('id');
      expect(error.reason).not.toMatch(/signing key|signed flow/);
    }
    expect((await frontend.toSession({ xSessionToken: stranger.token })).data.active).toBe(true);
    // A visible session still needs the signed flow.
    const other = await newSession(t, identityId);
    expect(await refusal(frontend.disableMySession({ id: other.id, xSessionToken: keyed.token }))).toMatchObject({ status: 403, error: { id: 'signed_flow_required' } });
  });

  it('serves the admin routes by the vendor\'s ids and ours, with admin metadata', async () => {
    const { data: sessions } = await admin.listIdentitySessions({ id: kratosIdentity });
    expect(sessions.map((s) => s.id).sort()).toEqual([kratosActive, '5b2d3f40-6c7e-4f80-9bac-1d2e3f405b6c']);
    expect(sessions.every((s) => s.identity?.id === kratosIdentity)).toBe(true);
    expect((await admin.listIdentitySessions({ id: kratosIdentity, active: true })).data.map((s) => s.id)).toEqual([kratosActive]);
    const byVendorId = await admin.getSession({ id: kratosActive });
    const byOurId = await admin.getSession({ id: `Session:${kratosActive}` });
    expect(byOurId.data).toEqual(byVendorId.data);
    expect(byVendorId.data.identity?.id).toBe(kratosIdentity);
    expect(byVendorId.data.identity?.metadata_admin).toEqual(expect.any(Object));
    expect((await admin.getSession({ id: kratosActive, expand: ['devices'] })).data).not.toHaveProperty('identity');
    const listed = await admin.listSessions({ active: true, pageSize: 500, expand: ['identity'] });
    expect(listed.data.map((s) => s.id)).toContain(kratosActive);
    expect(listed.data.every((s) => s.active && s.identity && !s.devices)).toBe(true);
  });

  it('reads a session imported from Clerk by its Clerk id, shown under our id', async () => {
    const { data } = await admin.getSession({ id: 'sess_2pQmW8xYzA1bC3dE4fG5hI6jK7' });
    expect(data.id).toMatch(/^Session:[0-9a-f-]{36}$/);
    expect(data.identity?.id).toMatch(/^Identity:/);
    expect((await admin.getSession({ id: data.id })).data.id).toBe(data.id);
    const clerkUserSessions = await admin.listIdentitySessions({ id: 'user_2pQmV1aBcD2eF3gH4iJ5kL6mN7' });
    expect(clerkUserSessions.data.map((s) => s.id)).toContain(data.id);
  });

  it('extends, revokes one and revokes all of an identity\'s sessions as an admin, writing the events', async () => {
    const identityId = await createIdentity(t, {});
    const a = await newSession(t, identityId, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const b = await newSession(t, identityId);
    expect((await admin.extendSession({ id: a.id })).status).toBe(204);
    const extended = (await admin.getSession({ id: a.id })).data;
    expect(new Date(extended.expires_at!).getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect((await admin.disableSession({ id: a.id })).status).toBe(204);
    expect((await admin.disableSession({ id: a.id })).status).toBe(204);
    expect((await admin.getSession({ id: a.id })).data.active).toBe(false);
    expect((await refusal(admin.extendSession({ id: a.id }))).status).toBe(404);
    expect((await admin.deleteIdentitySessions({ id: identityId })).status).toBe(204);
    expect((await admin.getSession({ id: b.id })).data.active).toBe(false);
    expect((await refusal(admin.deleteIdentitySessions({ id: identityId }))).status).toBe(404);
    const events = await t.db.prisma.sessionEvent.findMany({ where: { identityId: identityId.slice(9) }, orderBy: { sequence: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['IDENTITY_CREATED', 'SESSION_CREATED', 'SESSION_CREATED', 'SESSION_EXTENDED', 'SESSION_REVOKED', 'SESSION_REVOKED']);
    expect(events.slice(3).every((e) => e.actorApiClientId === 'admin')).toBe(true);
  });

  it('refuses unknown ids, wrong scopes, sessions and bad tokens on the admin routes', async () => {
    const readOnly = identityApi(await secretKeyFor(t, 'READ'));
    expect((await readOnly.getSession({ id: kratosActive })).status).toBe(200);
    expect((await refusal(readOnly.disableSession({ id: kratosActive }))).status).toBe(403);
    const identityId = await createIdentity(t, {});
    const session = await newSession(t, identityId);
    expect((await refusal(identityApi(session.token).getSession({ id: session.id }))).status).toBe(403);
    expect((await refusal(identityApi('admin.wrong-secret').getSession({ id: kratosActive }))).status).toBe(401);
    expect((await refusal(admin.getSession({ id: '00000000-0000-4000-8000-000000000000' }))).status).toBe(404);
    expect((await refusal(admin.getSession({ id: 'not-an-id' }))).status).toBe(404);
    expect((await refusal(admin.listSessions({ pageToken: 'garbage' }))).status).toBe(400);
  });
});

describe('Kratos whoami with a session token (JWT) whose session has just ended', () => {
  it('answers 401 session_inactive as with the opaque token, though the revocation set has not heard of the expiry yet', async () => {
    let clock = Date.now();
    const t = await createTestApp(pgliteTarget, { now: () => new Date(clock) });
    const server = await serve(t);
    try {
      const frontend = new FrontendApi(new Configuration({ basePath: `${server.url}/kratos` }));
      const session = await newSession(t, await createIdentity(t, {}), { expiresAt: new Date(clock + 30_000).toISOString() });
      const minted = await t.graphql<{ createSessionToken: { token: { jwt: string } } }>('mutation ($id: ID!) { createSessionToken(input: { sessionId: $id }) { token { jwt } } }', { id: session.id });
      const bearer = { headers: { authorization: `Bearer ${minted.data!.createSessionToken.token.jwt}` } };
      expect((await frontend.toSession({}, bearer)).data.active).toBe(true);
      // Past the session's end, inside the token's clock skew (5 s); no sweep has recorded the expiry.
      clock += 32_000;
      for (const call of [() => frontend.toSession({ xSessionToken: session.token }), () => frontend.toSession({}, bearer)]) {
        expect(await refusal(call())).toMatchObject({ status: 401, error: { id: 'session_inactive' } });
      }
    } finally {
      await server.stop();
      await t.dispose();
    }
  });
});
