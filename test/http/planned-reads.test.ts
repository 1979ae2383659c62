// A session caller's opaque token is checked in the planned read's own statement: the security page
// costs one statement. Whatever the planner does not answer settles the token the usual way first,
// so every response — data, 401, rate limit, bad input — is what the resolving path gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { memoryStore } from '../../src/rate-limit.js';
import { plannedReadMark } from '../../src/planner/reads.js';
import { createApp, type App } from '../../src/server.js';
import { createTestApp, testConfig, type TestApp } from '../support/app.js';
import { databaseTargets, pgliteTarget } from '../support/databases.js';
import { createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';

const securityPage = `{ viewer { identity { id traits sessions(first: 50) { edges { node {
  id status type nickname createdAt expiresAt lastActiveAt aal
  devices { id userAgent ipAddress location lastSeenAt }
  authenticationMethods { method aal completedAt } } } } } } }`;

async function ask(app: App, authorization: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await app.fetch('http://sessiongraph.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, authenticate: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
}

const code = (body: Record<string, unknown>) => (body as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;

describe.each(databaseTargets)('a pending session token on $name', (target) => {
  let t: TestApp;
  let resolving: App;
  let clock = new Date();
  let me: BrowserSession;
  const sessions: Record<'revoked' | 'expired' | 'abandoned' | 'inactiveIdentity', BrowserSession> = {} as never;

  beforeAll(async () => {
    t = await createTestApp(target, { now: () => clock, env: { RATE_LIMIT_AUTH_FAILURES: '100000' } });
    resolving = createApp({ db: t.db, logger: createLogger('error', () => {}), config: testConfig({ PLANNED_READS: 'false', RATE_LIMIT_AUTH_FAILURES: '100000' }), rateLimits: memoryStore(), now: () => clock });
    const identityId = await createIdentity(t, { email: 'me@example.com' });
    me = await createBrowserSession(t, identityId, { devices: [{ userAgent: 'A', ipAddress: '192.0.2.1' }], authenticationMethods: [{ method: 'PASSWORD', aal: 'AAL1' }] });
    await createBrowserSession(t, identityId, { nickname: 'laptop', devices: [{ userAgent: 'B' }] });
    const soon = new Date(Date.now() + 10 * 60_000).toISOString();
    sessions.revoked = await createBrowserSession(t, identityId);
    sessions.expired = await createBrowserSession(t, identityId, { expiresAt: soon });
    sessions.abandoned = await createBrowserSession(t, identityId, { abandonAt: soon });
    sessions.inactiveIdentity = await createBrowserSession(t, await createIdentity(t, { email: 'gone@example.com' }));
    await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id, reason: "test" }) { session { id } } }', { id: sessions.revoked.id });
    const gone = await t.db.prisma.session.findUniqueOrThrow({ where: { id: sessions.inactiveIdentity.id.slice('Session:'.length) } });
    await t.db.prisma.identity.update({ where: { id: gone.identityId }, data: { state: 'INACTIVE' } });
    clock = new Date(Date.now() + 30 * 60_000);
  });
  afterAll(async () => {
    await t.dispose();
  });

  /** The planning app's answer and statements, beside the resolving app's answer. */
  async function both(authorization: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    t.queries.length = 0;
    const planned = await ask(t.app, authorization, body, headers);
    const statements = [...t.queries];
    return { planned, statements, resolved: await ask(resolving, authorization, body, headers) };
  }

  it('answers the security page from one statement that also checks the token', async () => {
    const { planned, statements, resolved } = await both(me.authorization, { query: securityPage });
    expect(planned).toEqual(resolved);
    expect(planned.status).toBe(200);
    expect(JSON.stringify(planned.body)).toContain('"nickname":"laptop"');
    expect(statements).toHaveLength(1);
    expect(statements[0]!.startsWith(plannedReadMark)).toBe(true);
  });

  it.each(['revoked', 'expired', 'abandoned', 'inactiveIdentity'] as const)('refuses a session that is %s with the usual 401', async (which) => {
    const { planned, resolved } = await both(sessions[which].authorization, { query: securityPage });
    expect(planned).toEqual(resolved);
    expect(planned.status).toBe(401);
    expect(planned.authenticate).toContain('Bearer');
    expect(planned.body).not.toHaveProperty('data');
  });

  it('refuses an unknown token with the usual 401, whatever the planned query', async () => {
    for (const query of [securityPage, '{ __typename }', '{ viewer { __typename } }', `{ node(id: "${me.id}") { id } }`]) {
      const { planned, resolved } = await both('Bearer sgs_not-a-token-of-ours', { query });
      expect(planned, query).toEqual(resolved);
      expect(planned.status, query).toBe(401);
    }
  });

  it('settles the token before what the planner leaves to the resolvers: a bad cursor, a trace, a row it cannot read', async () => {
    const badCursor = { query: '{ viewer { identity { sessions(first: 2, after: "nonsense") { edges { node { id } } } } } }' };
    const good = await both(me.authorization, badCursor);
    expect(good.planned).toEqual(good.resolved);
    expect(code(good.planned.body)).toBe('BAD_USER_INPUT');
    const bad = await both(sessions.revoked.authorization, badCursor);
    expect(bad.planned).toEqual(bad.resolved);
    expect(bad.planned.status).toBe(401);

    // Apollo's inline trace: the resolvers answer, as the token's caller.
    const traced = await both(me.authorization, { query: '{ viewer { session { id } } }' }, { 'apollo-federation-include-trace': 'ftv1' });
    expect((traced.planned.body as { data: unknown }).data).toEqual({ viewer: { session: { id: me.id } } });
    expect(traced.statements.some((sql) => sql.startsWith(plannedReadMark))).toBe(false);

    // A step another tool stored that is not an object makes the statement fail: the resolvers
    // answer, as the token's caller, with their own error.
    const id = me.id.slice('Session:'.length);
    const before = await t.db.prisma.session.findUniqueOrThrow({ where: { id } });
    await t.db.prisma.session.update({ where: { id }, data: { authenticationMethods: ['PASSWORD'] } });
    try {
      const { planned, resolved } = await both(me.authorization, { query: '{ viewer { session { id authenticationMethods { method } } } }' });
      expect(planned).toEqual(resolved);
      expect(planned.status).toBe(200);
      expect(t.logs.some((line) => line.msg === 'a planned read failed; resolving it field by field instead')).toBe(true);
    } finally {
      await t.db.prisma.session.update({ where: { id }, data: { authenticationMethods: before.authenticationMethods ?? [] } });
    }
  });

  it('judges the token before the input: a bad token with a list too long is a 401, a good one a BAD_USER_INPUT', async () => {
    const body = { query: 'query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', variables: { ids: Array.from({ length: 501 }, () => me.id) } };
    const bad = await both(sessions.expired.authorization, body);
    expect(bad.planned).toEqual(bad.resolved);
    expect(bad.planned.status).toBe(401);
    const good = await both(me.authorization, body);
    expect(good.planned).toEqual(good.resolved);
    expect(code(good.planned.body)).toBe('BAD_USER_INPUT');
    // The token's usual lookup, and no planned read.
    expect(good.statements).toHaveLength(1);
    expect(good.statements[0]!.startsWith(plannedReadMark)).toBe(false);
  });
});

describe('pending session tokens and the rate limiter', () => {
  it('count a token the planned read refuses as a failed authentication, as any other', async () => {
    const t = await createTestApp(pgliteTarget, { env: { RATE_LIMIT_AUTH_FAILURES: '2', RATE_LIMIT_WINDOW_SECONDS: '60' } });
    try {
      const me = await createBrowserSession(t, await createIdentity(t));
      expect((await ask(t.app, me.authorization, { query: securityPage })).status).toBe(200);
      for (let i = 0; i < 2; i++) expect((await ask(t.app, `Bearer sgs_wrong-${i}`, { query: securityPage })).status).toBe(401);
      // One failure past the limit: the address is refused for the window.
      const limited = await ask(t.app, 'Bearer sgs_wrong-2', { query: securityPage });
      expect(limited.status).toBe(429);
      expect(code(limited.body)).toBe('RATE_LIMITED');
    } finally {
      await t.dispose();
    }
  });
});
