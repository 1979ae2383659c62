// The planned write path: what each write costs in statements (captured at the driver and from
// Prisma's log), and that its answers, errors and rows are the resolvers' (PLANNED_WRITES=false on
// the same database).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { plannedWriteMark } from '../../src/planner/writes/index.js';
import { memoryStore } from '../../src/rate-limit.js';
import { createApp, type App } from '../../src/server.js';
import { adminAuthorization, createTestApp, testConfig, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { createBrowserSession, createIdentity, requestRevocation } from '../support/sessions.js';

const login = `mutation ($input: CreateSessionInput!) {
  createSession(input: $input) {
    __typename
    session { id type nickname status active aal clientId actor expiresAt issuedAt lastActiveAt signingPublicKey revokedAt
      identity { id traits }
      authenticationMethods { method aal provider completedAt }
      devices { id userAgent ipAddress location firstSeenAt lastSeenAt } }
    sessionToken
    encryptedSessionSigningKey
  }
}`;

// A P-256 point (the generator), compressed.
const publicKey = '036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296';

async function ask(app: App, query: string, variables: Record<string, unknown>, authorization: string = adminAuthorization) {
  const response = await app.fetch('http://sessiongraph.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, any>; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

/** What differs between two logins of the same input: ids, secrets, times taken from the clock. */
function comparable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value)
      .replace(/(Session|Device):[0-9a-f-]{36}/g, '$1:<id>')
      .replace(/sgs_[A-Za-z0-9_-]{43}/g, '<token>')
      .replace(/"(firstSeenAt|lastSeenAt)":"[^"]+"/g, '"$1":"<time>"'),
  );
}

describe.each(databaseTargets)('planned writes on $name', (target) => {
  let t: TestApp;
  let resolving: App;
  let identityId: string;
  const clock = new Date('2026-03-01T12:00:00.000Z');
  const expiresAt = new Date(clock.getTime() + 86_400_000).toISOString();

  beforeAll(async () => {
    t = await createTestApp(target, { now: () => clock });
    resolving = createApp({ db: t.db, logger: createLogger('error', () => {}), config: testConfig({ PLANNED_WRITES: 'false' }), rateLimits: memoryStore(), now: () => clock });
    identityId = await createIdentity(t, { email: 'login@example.com' });
  });
  afterAll(async () => {
    await t.dispose();
  });

  const input = () => ({
    identityId,
    type: 'PASSKEY',
    nickname: 'laptop',
    clientId: 'client_1',
    actor: { sub: 'user_admin' },
    aal: 'AAL2',
    expiresAt,
    clientPublicKey: publicKey,
    authenticationMethods: [{ method: 'PASSWORD', aal: 'AAL1', completedAt: '2026-03-01T11:59:00.000Z' }, { method: 'TOTP', provider: 'authy' }],
    devices: [{ userAgent: 'Firefox', ipAddress: '192.0.2.1', location: 'Berlin' }, { userAgent: 'Curl' }],
  });

  it('writes a login — session, devices, authentication methods and event — with one statement, and answers as the resolvers do', async () => {
    t.queries.length = 0;
    const planned = await ask(t.app, login, { input: input() });
    const statements = [...t.queries];
    expect(planned.body.errors).toBeUndefined();
    expect(statements).toHaveLength(1);
    expect(statements[0]!.startsWith(plannedWriteMark)).toBe(true);
    const resolved = await ask(resolving, login, { input: input() });
    expect(resolved.body.errors).toBeUndefined();
    expect(comparable(planned)).toEqual(comparable(resolved));
    // The rows as Prisma reads them back: the same but for ids, secrets and the database's clock.
    const ids = [planned, resolved].map((r) => (r.body.data!.createSession.session.id as string).slice('Session:'.length));
    const rows = await Promise.all(
      ids.map((id) => t.db.prisma.session.findUniqueOrThrow({ where: { id }, omit: { tokenHash: false }, include: { devices: { orderBy: { id: 'asc' } }, events: true } })),
    );
    const shape = (row: (typeof rows)[number]) => {
      const { id, tokenHash, createdAt, updatedAt, devices, events, ...rest } = row;
      expect(tokenHash).toHaveLength(32);
      expect(Math.abs(updatedAt.getTime() - createdAt.getTime())).toBeLessThan(60_000);
      return {
        ...rest,
        devices: devices.map(({ id: _id, sessionId: _s, firstSeenAt: _f, lastSeenAt: _l, ...device }) => device),
        events: events.map(({ id: _id, sequence: _q, sessionId, ...event }) => ({ ...event, sessionIs: sessionId === id })),
      };
    };
    expect(shape(rows[0]!)).toEqual(shape(rows[1]!));
    expect(rows[0]!.events).toHaveLength(1);
    expect(rows[0]!.devices).toHaveLength(2);
  });

  it('hands the session token that authenticates, and the feed hears of the event', async () => {
    const events: string[] = [];
    const created = await ask(t.app, `mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id } sessionToken } }`, { input: { identityId, type: 'PASSWORD' } });
    const token = created.body.data!.createSession.sessionToken as string;
    const viewer = await ask(t.app, '{ viewer { session { id } } }', {}, `Bearer ${token}`);
    expect(viewer.body.data!.viewer.session.id).toBe(created.body.data!.createSession.session.id);
    const stored = await t.db.prisma.sessionEvent.findMany({ where: { sessionId: (created.body.data!.createSession.session.id as string).slice(8) } });
    events.push(...stored.map((event) => event.type));
    expect(events).toEqual(['SESSION_CREATED']);
  });

  it.each([
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00.000Z' }, 'input.expiresAt'],
    ['a key that is not a point', { clientPublicKey: '04' + '00'.repeat(64) }, 'input.clientPublicKey'],
    ['a device with a bad address', { devices: [{ userAgent: 'x' }, { ipAddress: 'not an address' }] }, 'input.devices[1].ipAddress'],
    ['an empty nickname', { nickname: '  ' }, 'input.nickname'],
    ['an actor that is not an object', { actor: [1] }, 'input.actor'],
    ['a method completed in the future', { authenticationMethods: [{ method: 'PASSWORD', completedAt: '2030-01-01T00:00:00.000Z' }] }, 'input.authenticationMethods[0].completedAt'],
    ['an identity that does not exist', { identityId: 'Identity:00000000-0000-7000-8000-000000000000' }, 'input.identityId'],
  ])('refuses %s with the resolvers\' BAD_USER_INPUT, and writes nothing', async (_what, change, field) => {
    const before = { sessions: await t.db.prisma.session.count(), devices: await t.db.prisma.device.count(), events: await t.db.prisma.sessionEvent.count() };
    const planned = await ask(t.app, login, { input: { ...input(), ...change } });
    const resolved = await ask(resolving, login, { input: { ...input(), ...change } });
    expect(planned).toEqual(resolved);
    expect(planned.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect({ sessions: await t.db.prisma.session.count(), devices: await t.db.prisma.device.count(), events: await t.db.prisma.sessionEvent.count() }).toEqual(before);
  });

  it('mints a token with one statement — the authenticating lookup writes the event when due — and the lookup alone when this instance knows it is not', async () => {
    const me = await createBrowserSession(t, identityId);
    const mint = 'mutation ($id: ID!) { createSessionToken(input: { sessionId: $id }) { token { jwt } } }';
    // The signing key is made on first use; count from the second mint of a fresh session.
    await ask(t.app, mint, { id: me.id });
    const other = await createBrowserSession(t, identityId);
    t.queries.length = 0;
    const first = await ask(t.app, mint, { id: other.id }, other.authorization);
    expect(first.body.errors).toBeUndefined();
    // The session's lookup by its token writes the event (no read before it, no second statement).
    expect(t.queries).toHaveLength(1);
    expect(t.queries[0]!.startsWith(plannedWriteMark)).toBe(true);
    const written = await t.db.prisma.sessionEvent.findMany({ where: { sessionId: other.id.slice(8), type: 'SESSION_TOKEN_ISSUED' } });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ identityId: identityId.slice('Identity:'.length), actorSessionId: other.id.slice(8), actorApiClientId: null, occurredAt: clock });
    expect(written[0]!.details).toEqual({ template: null, expiresAt: new Date(clock.getTime() + 60_000).toISOString() });
    t.queries.length = 0;
    // Known to be throttled: the lookup alone, which writes nothing.
    expect((await ask(t.app, mint, { id: other.id }, other.authorization)).body.errors).toBeUndefined();
    expect(t.queries).toHaveLength(1);
    expect(t.queries[0]!.startsWith(plannedWriteMark)).toBe(false);
    t.queries.length = 0;
    const again = await ask(t.app, '{ viewer { sessionToken { jwt } } }', {}, other.authorization);
    expect(again.body.errors).toBeUndefined();
    expect(t.queries).toHaveLength(1);
    // Another instance does not know: its statement finds the event and writes none.
    const elsewhere = createApp({ db: t.db, logger: createLogger('error', () => {}), config: testConfig(), rateLimits: memoryStore(), now: () => clock });
    t.queries.length = 0;
    expect((await ask(elsewhere, mint, { id: other.id }, other.authorization)).body.errors).toBeUndefined();
    expect(t.queries.filter((sql) => sql.startsWith(plannedWriteMark))).toHaveLength(1);
    const issued = await t.db.prisma.sessionEvent.count({ where: { sessionId: other.id.slice(8), type: 'SESSION_TOKEN_ISSUED' } });
    expect(issued).toBe(1);
  });

  it('answers a mint it cannot make as the resolvers do, and writes no event: a bad token, another session, a revoked one, a bad azp', async () => {
    const mint = 'mutation ($id: ID!, $azp: String) { createSessionToken(input: { sessionId: $id, authorizedParty: $azp }) { token { jwt } } }';
    const me = await createBrowserSession(t, identityId);
    const other = await createBrowserSession(t, identityId);
    const gone = await createBrowserSession(t, identityId);
    await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: gone.id });
    const issued = () => t.db.prisma.sessionEvent.count({ where: { type: 'SESSION_TOKEN_ISSUED' } });
    const before = await issued();
    for (const [variables, authorization, code] of [
      [{ id: me.id }, 'Bearer sgs_not-a-token', 'UNAUTHENTICATED'],
      [{ id: gone.id }, gone.authorization, 'UNAUTHENTICATED'],
      [{ id: other.id }, me.authorization, 'NOT_FOUND'],
      [{ id: me.id, azp: '  ' }, me.authorization, 'BAD_USER_INPUT'],
      [{ id: 'Session:00000000-0000-7000-8000-000000000000' }, adminAuthorization, 'NOT_FOUND'],
      [{ id: gone.id }, adminAuthorization, 'SESSION_NOT_ACTIVE'],
    ] as const) {
      const planned = await ask(t.app, mint, variables, authorization);
      const resolved = await ask(resolving, mint, variables, authorization);
      expect(planned).toEqual(resolved);
      expect(planned.body.errors?.[0]?.extensions?.code).toBe(code);
    }
    expect(await issued()).toBe(before);
    // An admin's mint: the session's read by id writes the event, one statement.
    t.queries.length = 0;
    const minted = await ask(t.app, 'mutation ($id: ID!) { createSessionToken(input: { sessionId: $id }) { __typename token { object template expiresAt } } }', { id: other.id });
    expect(minted.body).toEqual({ data: { createSessionToken: { __typename: 'CreateSessionTokenPayload', token: { object: 'token', template: null, expiresAt: new Date(clock.getTime() + 60_000).toISOString() } } } });
    expect(t.queries).toHaveLength(1);
    expect(t.queries[0]!.startsWith(plannedWriteMark)).toBe(true);
    const written = await t.db.prisma.sessionEvent.findMany({ where: { sessionId: other.id.slice(8), type: 'SESSION_TOKEN_ISSUED' } });
    expect(written).toMatchObject([{ identityId: identityId.slice('Identity:'.length), actorSessionId: null, actorApiClientId: 'admin' }]);
  });

  it('records activity in one statement; a signed revocation is requested with an insert and its recount and confirmed with two statements', async () => {
    const me = await createBrowserSession(t, identityId);
    t.queries.length = 0;
    const touched = await ask(t.app, 'mutation ($input: RecordSessionActivityInput!) { recordSessionActivity(input: $input) { session { id lastActiveAt } device { id } } }', {
      input: { sessionId: me.id, userAgent: 'Firefox', ipAddress: '192.0.2.7' },
    });
    expect(touched.body.errors).toBeUndefined();
    // One statement locks the session, touches it, upserts its device and writes the event — no
    // transaction of its own — and the payload's fields are resolved from the rows it returned.
    expect(t.queries.map((sql) => (sql.startsWith(plannedWriteMark) ? 'planned' : sql))).toEqual(['planned']);
    expect(touched.body.data!.recordSessionActivity.device.id).toMatch(/^Device:/);
    expect(await t.db.prisma.sessionEvent.count({ where: { sessionId: me.id.slice(8), type: 'SESSION_ACTIVITY_RECORDED' } })).toBe(1);
    t.queries.length = 0;
    const challenge = await requestRevocation(t, me.id, me.authorization);
    // The session's lookup by token, the target's; the challenge's insert, and its recount (no transaction, no lock).
    expect(t.queries).toHaveLength(4);
    expect(t.queries.slice(2).every((sql) => sql.startsWith(plannedWriteMark) && sql.includes('"public"."challenges"'))).toBe(true);
    t.queries.length = 0;
    const confirmed = await ask(t.app, 'mutation ($r: String!, $s: String!) { confirmRevocation(input: { requestId: $r, signature: $s }) { session { id status } } }', {
      r: challenge.requestId,
      s: await me.sign(challenge.payloadToSign),
    }, me.authorization);
    expect(confirmed.body.data!.confirmRevocation.session.status).toBe('REVOKED');
    // The caller's lookup with the challenge and its possible signers, then one statement (no
    // transaction of its own, no lock first) consumes the challenge, re-checks the signer, revokes and writes the event.
    expect(t.queries.map((sql) => (sql.startsWith(plannedWriteMark) ? 'planned' : /^(BEGIN|COMMIT)$/.test(sql) ? sql : 'lookup'))).toEqual(['planned', 'planned']);
    expect(t.queries[0]).toContain('token_hash');
    expect(t.queries[1]).toContain('"public"."session_events"');
    expect(await t.db.prisma.sessionEvent.count({ where: { sessionId: me.id.slice(8), type: 'SESSION_REVOKED' } })).toBe(1);
  });

  it('confirms with the token checked by the challenge\'s read, answering as the resolvers do when it cannot', async () => {
    const confirm = 'mutation ($r: String!, $s: String!) { confirmRevocation(input: { requestId: $r, signature: $s }) { operation session { id status } } }';
    const me = await createBrowserSession(t, identityId);
    const target = await createBrowserSession(t, identityId);
    const stranger = await createBrowserSession(t, await createIdentity(t, { email: 'stranger@example.com' }));
    const gone = await createBrowserSession(t, identityId);
    await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: gone.id });
    const challenge = await requestRevocation(t, target.id, me.authorization);
    const signature = await me.sign(challenge.payloadToSign);
    for (const [variables, authorization, code] of [
      [{ r: challenge.requestId, s: signature }, 'Bearer sgs_not-a-token', 'UNAUTHENTICATED'],
      [{ r: challenge.requestId, s: signature }, gone.authorization, 'UNAUTHENTICATED'],
      [{ r: challenge.requestId, s: signature }, stranger.authorization, 'CHALLENGE_NOT_FOUND'],
      [{ r: 'no-such-request', s: signature }, me.authorization, 'CHALLENGE_NOT_FOUND'],
      [{ r: 'nul\u0000', s: signature }, me.authorization, 'BAD_USER_INPUT'],
      [{ r: challenge.requestId, s: 'AAAA' }, me.authorization, 'INVALID_SIGNATURE'],
    ] as const) {
      const planned = await ask(t.app, confirm, variables, authorization);
      const resolved = await ask(resolving, confirm, variables, authorization);
      expect(planned).toEqual(resolved);
      expect(planned.body.errors?.[0]?.extensions?.code).toBe(code);
    }
    expect(await t.db.prisma.session.findUniqueOrThrow({ where: { id: target.id.slice(8) } })).toMatchObject({ status: 'ACTIVE' });
    const confirmed = await ask(t.app, confirm, { r: challenge.requestId, s: signature }, me.authorization);
    expect(confirmed.body).toEqual({ data: { confirmRevocation: { operation: 'REVOKE_SESSION', session: { id: target.id, status: 'REVOKED' } } } });
    expect(await t.db.prisma.sessionEvent.count({ where: { sessionId: target.id.slice(8), type: 'SESSION_REVOKED', actorSessionId: me.id.slice(8) } })).toBe(1);
  });

  it('confirms an admin\'s revocation it handed out with one statement that answers the payload, as the resolvers do, and leaves every doubt to the usual way', async () => {
    const fields = 'id status revokedAt revokedBySessionId updatedAt nickname devices { id userAgent } identity { id state } authenticationMethods { method aal }';
    const confirm = `mutation ($r: String!, $s: String!) { confirmRevocation(input: { requestId: $r, signature: $s }) { __typename operation session { ${fields} } revokedSessions { id status } } }`;
    const target = await createBrowserSession(t, identityId, { nickname: 'phone', devices: [{ userAgent: 'Safari' }] });
    const challenge = await requestRevocation(t, target.id, adminAuthorization);
    t.queries.length = 0;
    const planned = await ask(t.app, confirm, { r: challenge.requestId, s: await target.sign(challenge.payloadToSign) });
    // No read: the challenge and the target's key are this instance's since step one.
    expect(t.queries.map((sql) => (sql.startsWith(plannedWriteMark) ? 'planned' : sql))).toEqual(['planned']);
    const read = await ask(resolving, `query ($id: ID!) { node(id: $id) { ... on Session { ${fields} } } }`, { id: target.id });
    expect(read.body.errors).toBeUndefined();
    expect(planned.body).toEqual({
      data: { confirmRevocation: { __typename: 'ConfirmRevocationPayload', operation: 'REVOKE_SESSION', session: read.body.data!.node, revokedSessions: [{ id: target.id, status: 'REVOKED' }] } },
    });
    expect(read.body.data!.node).toMatchObject({ status: 'REVOKED', nickname: 'phone', devices: [{ userAgent: 'Safari' }] });
    expect(await t.db.prisma.sessionEvent.count({ where: { sessionId: target.id.slice(8), type: 'SESSION_REVOKED', actorApiClientId: 'admin' } })).toBe(1);

    // Another signer of the account: the target's key does not verify, and the usual way (two statements) finds the signer.
    const next = await createBrowserSession(t, identityId);
    const signer = await createBrowserSession(t, identityId);
    const byOther = await requestRevocation(t, next.id, adminAuthorization);
    t.queries.length = 0;
    const confirmed = await ask(t.app, confirm, { r: byOther.requestId, s: await signer.sign(byOther.payloadToSign) });
    expect(confirmed.body.data!.confirmRevocation.session).toMatchObject({ id: next.id, status: 'REVOKED', revokedBySessionId: signer.id });
    expect(t.queries.filter((sql) => sql.startsWith(plannedWriteMark))).toHaveLength(2);

    // Refusals, each of a challenge this instance keeps, answered exactly as the resolvers answer the
    // same (a twin challenge, or the same one) — and nothing written.
    type Issued = { requestId: string; payloadToSign: string };
    const refused = async ([mine, theirs]: Issued[], signature: (payload: string) => Promise<string>, code: string) => {
      const planned = await ask(t.app, confirm, { r: mine!.requestId, s: await signature(mine!.payloadToSign) });
      const resolved = await ask(resolving, confirm, { r: theirs!.requestId, s: await signature(theirs!.payloadToSign) });
      expect(planned.body.errors?.[0]?.extensions?.code).toBe(code);
      expect(JSON.stringify(planned).replaceAll(mine!.requestId, '<r>')).toBe(JSON.stringify(resolved).replaceAll(theirs!.requestId, '<r>'));
    };
    const twins = async (sessionId: string) => [await requestRevocation(t, sessionId, adminAuthorization), await requestRevocation(t, sessionId, adminAuthorization)];
    const stranger = await createBrowserSession(t, await createIdentity(t, { email: 'confirm-stranger@example.com' }));
    const victim = await createBrowserSession(t, identityId);
    await refused(await twins(victim.id), async () => 'AAAA', 'INVALID_SIGNATURE');
    await refused(await twins(victim.id), (payload) => stranger.sign(payload), 'INVALID_SIGNATURE');
    // The target signed out by an admin since: its key signs for no active session any more.
    const gone = await createBrowserSession(t, identityId);
    const goneTwins = await twins(gone.id);
    await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: gone.id });
    await refused(goneTwins, (payload) => gone.sign(payload), 'INVALID_SIGNATURE');
    // Used on another instance: this one's statement finds it consumed and writes nothing; the usual way says so.
    const used = await requestRevocation(t, victim.id, adminAuthorization);
    expect((await ask(resolving, confirm, { r: used.requestId, s: await victim.sign(used.payloadToSign) })).body.errors).toBeUndefined();
    await refused([used, used], (payload) => victim.sign(payload), 'CHALLENGE_CONSUMED');
    expect(await t.db.prisma.sessionEvent.count({ where: { sessionId: victim.id.slice(8), type: 'SESSION_REVOKED' } })).toBe(1);
  });

  it('leaves to the resolvers what it cannot answer: a read-only token, a vendor id, an identity\'s sessions', async () => {
    const sessionsToo = `mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id identity { sessions(first: 5) { totalCount } } } } }`;
    t.queries.length = 0;
    const answered = await ask(t.app, sessionsToo, { input: { identityId, type: 'PASSWORD' } });
    expect(answered.body.errors).toBeUndefined();
    expect(answered.body.data!.createSession.session.identity.sessions.totalCount).toBeGreaterThan(1);
    expect(t.queries.some((sql) => sql.startsWith(plannedWriteMark))).toBe(false);
    const vendor = await ask(t.app, login, { input: { ...input(), identityId: 'user_nobody' } });
    expect(vendor.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.identityId' });
  });
});
