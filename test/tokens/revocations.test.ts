// Session JWTs follow revocation and deactivation without a lookup: each instance's in-memory
// revocation set hears of them through the event feed, is rebuilt from the events at start, and
// forgets an entry once no token can name it. On PostgreSQL, two server processes: a JWT is
// refused on the second within a second of the commit on the first.
import { randomBytes } from 'node:crypto';
import { createClient as createSseClient } from 'graphql-sse';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventFeed } from '../../src/events/feed.js';
import { createLogger } from '../../src/logger.js';
import { memoryStore } from '../../src/rate-limit.js';
import { createApp } from '../../src/server.js';
import { createSessionTokens } from '../../src/tokens/session-tokens.js';
import { createTestApp, testConfig, testTokenKeySecret, type TestApp } from '../support/app.js';
import { createPostgresDatabase, databaseTargets } from '../support/databases.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';

const mint = `mutation ($id: ID!) { createSessionToken(input: { sessionId: $id }) { token { jwt } } }`;
const revoke = 'mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id, reason: "test" }) { session { id } } }';
const setState = 'mutation ($id: ID!, $state: IdentityState!) { setIdentityState(input: { identityId: $id, state: $state }) { identity { state } } }';
const whoami = '{ viewer { session { id } } }';

type Answer = { status?: number; data?: Record<string, any>; errors?: { message: string; extensions?: Record<string, unknown> }[] }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(databaseTargets)('the JWT revocation set on $name', (target) => {
  let t: TestApp;
  let clock = Date.now();
  beforeAll(async () => {
    // Events reach the set by the local commit's notice alone: the slow poll would add statements.
    t = await createTestApp(target, { now: () => new Date(clock), env: { EVENT_POLL_MS: '60000', SESSION_TOKEN_LIFETIME_SECONDS: '3600' } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  const jwtFor = async (session: BrowserSession) => (await t.graphql<{ createSessionToken: { token: { jwt: string } } }>(mint, { id: session.id })).data!.createSessionToken.token.jwt;
  const asBearer = (jwt: string, query = whoami) => t.graphql(query, {}, { authorization: `Bearer ${jwt}` });
  const refusedSoon = (jwt: string) => expect.poll(async () => (await asBearer(jwt)).errors?.[0]?.message, { timeout: 1000, interval: 10 });

  it('refuses a revoked session\'s JWT, and a deactivated identity\'s until it is active again, with no statement per request', async () => {
    const identityId = await createIdentity(t);
    const [laptop, phone] = [await createBrowserSession(t, identityId), await createBrowserSession(t, identityId)];
    const [laptopJwt, phoneJwt] = [await jwtFor(laptop), await jwtFor(phone)];
    expect((await asBearer(laptopJwt)).data).toEqual({ viewer: { session: { id: laptop.id } } });
    // Checking a JWT reads nothing: signature, key and revocation are all in memory.
    t.queries.length = 0;
    for (let i = 0; i < 5; i++) expect((await asBearer(laptopJwt, '{ __typename }')).errors).toBeUndefined();
    expect(t.queries).toEqual([]);

    expect((await t.graphql(revoke, { id: phone.id })).errors).toBeUndefined();
    await refusedSoon(phoneJwt).toBe('The session of this token is no longer active');
    t.queries.length = 0;
    expect((await asBearer(phoneJwt, '{ __typename }')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(t.queries).toEqual([]);
    expect((await asBearer(laptopJwt)).errors).toBeUndefined();

    expect((await t.graphql(setState, { id: identityId, state: 'INACTIVE' })).errors).toBeUndefined();
    await refusedSoon(laptopJwt).toBe('The session of this token is no longer active');
    expect((await t.graphql(setState, { id: identityId, state: 'ACTIVE' })).errors).toBeUndefined();
    await refusedSoon(laptopJwt).toBeUndefined();
    expect((await asBearer(laptopJwt)).data).toEqual({ viewer: { session: { id: laptop.id } } });
    // The revoked phone stays refused: re-activating the identity restores no ended session.
    expect((await asBearer(phoneJwt)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('is rebuilt from the events at start: a new instance refuses at once what the old one learned live', async () => {
    const identityId = await createIdentity(t);
    const other = await createIdentity(t);
    const [revoked, kept, ofInactive] = [await createBrowserSession(t, identityId), await createBrowserSession(t, identityId), await createBrowserSession(t, other)];
    const jwts = { revoked: await jwtFor(revoked), kept: await jwtFor(kept), ofInactive: await jwtFor(ofInactive) };
    await t.graphql(revoke, { id: revoked.id });
    await t.graphql(setState, { id: other, state: 'INACTIVE' });
    // A second instance on the same database, started after both commits.
    const logger = createLogger('error', () => {});
    const config = testConfig({ EVENT_POLL_MS: '60000' });
    const feed = new EventFeed(t.db, { ...config.events, logger });
    const rateLimits = memoryStore();
    const fresh = createApp({ db: t.db, logger, config, rateLimits, events: feed, now: () => new Date(clock) });
    try {
      const ask = async (jwt: string) =>
        ((await (await fresh.fetch('http://second.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` }, body: JSON.stringify({ query: whoami }) })).json()) as Answer);
      expect((await ask(jwts.revoked)).errors?.[0]?.message).toBe('The session of this token is no longer active');
      expect((await ask(jwts.ofInactive)).errors?.[0]?.message).toBe('The session of this token is no longer active');
      expect((await ask(jwts.kept)).data).toEqual({ viewer: { session: { id: kept.id } } });
    } finally {
      await feed.close();
      await rateLimits.close();
    }
  });

  it('forgets an entry once no token can name it any more (the longest lifetime, the largest skew and a margin)', async () => {
    // A set of its own over the same database and feed, to look inside.
    const tokens = createSessionTokens(t.db.prisma, testConfig().auth.tokens, { feed: t.events, logger: createLogger('error', () => {}), now: () => new Date(clock) })!;
    await tokens.prepare();
    const before = tokens.revocations!.size.sessions;
    const session = await createBrowserSession(t, await createIdentity(t));
    await t.graphql(revoke, { id: session.id });
    await expect.poll(() => tokens.revocations!.size.sessions, { timeout: 1000, interval: 10 }).toBe(before + 1);
    const identityId = ((await t.graphql<{ session: { identity: { id: string } } }>('query ($id: ID!) { session(id: $id) { identity { id } } }', { id: session.id })).data!.session.identity.id);
    expect(await tokens.revoked(session.id.slice('Session:'.length), identityId.slice('Identity:'.length))).toBe('session');
    clock += (86_400 + 600) * 1000 + 1000;
    try {
      expect(tokens.revocations!.size.sessions).toBe(0);
      expect(await tokens.revoked(session.id.slice('Session:'.length), identityId.slice('Identity:'.length))).toBeUndefined();
    } finally {
      clock -= (86_400 + 600) * 1000 + 1000;
      tokens.revocations!.close();
    }
  });

  it('ends a subscription opened with a JWT when its session is revoked, and opens none for a revoked one', async () => {
    const identityId = await createIdentity(t);
    const phone = await createBrowserSession(t, identityId);
    const jwt = await jwtFor(phone);
    const response = await t.app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ query: 'subscription { sessionEvents(types: [SESSION_CREATED]) { type session { id } } }' }),
    });
    expect(response.status).toBe(200);
    const body = response.body!.getReader();
    await t.graphql(revoke, { id: phone.id });
    let text = '';
    for (;;) {
      const { value, done } = await body.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    // It received the revocation of its own session (whatever types it asked for), then ended.
    expect(text).toContain('"type":"SESSION_REVOKED"');
    expect(text).toContain(phone.id);
    const again = await t.app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ query: 'subscription { sessionEvents { type } }' }),
    });
    expect(await again.text()).toContain('no longer active');
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('two instances on one PostgreSQL, strict revocation off', () => {
  const adminToken = `revocation-admin-${randomBytes(12).toString('base64url')}`;
  const admin = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    const env = {
      DATABASE_URL: database.url,
      ADMIN_TOKEN: adminToken,
      TOKEN_KEY_SECRET: testTokenKeySecret,
      STRICT_TOKEN_REVOCATION: 'false',
      RATE_LIMIT_AUTH_FAILURES: '100000',
      // Only a notification can bring the event to the other instance in time.
      EVENT_POLL_MS: '60000',
    };
    a = await startServer(env);
    b = await startServer(env);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  const on = (server: ServerProcess) =>
    ({
      async graphql(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
        const response = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: admin, ...headers },
          body: JSON.stringify({ query, variables }),
        });
        return { status: response.status, ...((await response.json()) as Answer) };
      },
    }) as unknown as TestApp;

  const mintOn = async (server: ServerProcess, sessionId: string): Promise<string> =>
    ((await on(server).graphql(mint, { id: sessionId })) as Answer).data!.createSessionToken.token.jwt;

  /** How long after `since` the second instance first refused the JWT (polling every 10 ms). */
  async function refusedAfter(jwt: string, since: number, refused = true): Promise<number> {
    for (;;) {
      const answer = (await on(b).graphql(whoami, {}, { authorization: `Bearer ${jwt}` })) as Answer;
      if ((answer.status === 401) === refused) return Date.now() - since;
      if (Date.now() - since > 5000) throw new Error(`still ${refused ? 'accepted' : 'refused'} after 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('publish the keys from the first start, before any token', async () => {
    const response = await fetch(`${b.url}/.well-known/jwks.json`);
    const { keys } = (await response.json()) as { keys: { alg: string }[] };
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'ES256', 'RS256', 'RS256']);
    // A token minted on A verifies against B's key set, fetched before it was minted.
    const verifier = createRemoteJWKSet(new URL(`${b.url}/.well-known/jwks.json`));
    const identityId = await createIdentity(on(a));
    const session = await createBrowserSession(on(a), identityId);
    const jwt = await mintOn(a, session.id);
    await jwtVerify(jwt, verifier);
  });

  it('refuse a JWT on the second within a second of its revocation, and of its identity\'s deactivation, on the first', async () => {
    const identityId = await createIdentity(on(a));
    const [laptop, phone] = [await createBrowserSession(on(a), identityId), await createBrowserSession(on(a), identityId)];
    const [laptopJwt, phoneJwt] = [await mintOn(a, laptop.id), await mintOn(a, phone.id)];
    expect((await on(b).graphql(whoami, {}, { authorization: `Bearer ${phoneJwt}` })).data).toEqual({ viewer: { session: { id: phone.id } } });

    expect((await on(a).graphql(revoke, { id: phone.id })).errors).toBeUndefined();
    expect(await refusedAfter(phoneJwt, Date.now())).toBeLessThan(1000);
    expect((await on(b).graphql(whoami, {}, { authorization: `Bearer ${laptopJwt}` })).errors).toBeUndefined();

    expect((await on(a).graphql(setState, { id: identityId, state: 'INACTIVE' })).errors).toBeUndefined();
    expect(await refusedAfter(laptopJwt, Date.now())).toBeLessThan(1000);
    expect((await on(a).graphql(setState, { id: identityId, state: 'ACTIVE' })).errors).toBeUndefined();
    expect(await refusedAfter(laptopJwt, Date.now(), false)).toBeLessThan(1000);
  });

  it('end a subscription on the second, opened with a JWT, when its session is revoked through the first', async () => {
    const identityId = await createIdentity(on(a));
    const phone = await createBrowserSession(on(a), identityId);
    const jwt = await mintOn(a, phone.id);
    const stream = createSseClient({ url: `${b.url}/graphql`, headers: { authorization: `Bearer ${jwt}` }, retryAttempts: 0 }).iterate<{
      sessionEvents: { type: string; session: { id: string } };
    }>({ query: 'subscription { sessionEvents(types: [SESSION_CREATED]) { type session { id } } }' });
    const first = stream.next();
    const subscriptionsOnB = async () => {
      const response = await fetch(`${b.url}/metrics`, { headers: { authorization: admin } });
      return Number(/^sessiongraph_subscriptions (\d+)/m.exec(await response.text())?.[1]);
    };
    await expect.poll(subscriptionsOnB).toBe(1);
    await on(a).graphql(revoke, { id: phone.id });
    const committedAt = Date.now();
    expect((await first).value?.data?.sessionEvents).toEqual({ type: 'SESSION_REVOKED', session: { id: phone.id } });
    expect(Date.now() - committedAt).toBeLessThan(1000);
    expect((await stream.next()).done).toBe(true);
    await expect.poll(subscriptionsOnB).toBe(0);
  });
});
