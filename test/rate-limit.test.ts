import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { clientAddressResolver } from '../src/http/client-address.js';
import { networkOf } from '../src/limiter.js';
import { createLogger, type LogFields } from '../src/logger.js';
import { memoryStore, openRateLimitStore, redisStore, type RateLimitStore } from '../src/rate-limit.js';
import { createApp } from '../src/server.js';
import { createTestApp, testConfig, type TestApp } from './support/app.js';
import { pgliteTarget, type TestDatabase } from './support/databases.js';
import { createBrowserSession, createIdentity } from './support/sessions.js';

const redisUrl = process.env.TEST_REDIS_URL;

describe('memory rate-limit store', () => {
  it('counts per key within a window, then starts again', async () => {
    let now = 1_000;
    const store = memoryStore(() => now);
    expect(await store.hit('a', 100)).toEqual({ count: 1, resetMs: 100 });
    expect(await store.hit('a', 100)).toEqual({ count: 2, resetMs: 100 });
    expect(await store.hit('b', 100)).toMatchObject({ count: 1 });
    now += 60;
    expect(await store.peek('a')).toEqual({ count: 2, resetMs: 40 });
    now += 40;
    expect(await store.peek('a')).toEqual({ count: 0, resetMs: 0 });
    expect(await store.hit('a', 100)).toMatchObject({ count: 1 });
    await store.close();
  });
});

describe.runIf(redisUrl)('Redis rate-limit store', () => {
  const opened: RateLimitStore[] = [];
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await Promise.all(databases.map((d) => d.dispose()));
  });

  it('shares counts between instances, with the window as the key\'s expiry', async () => {
    const prefix = `sessiongraph-test:${randomBytes(6).toString('hex')}:`;
    const [one, two] = [await redisStore(redisUrl!, undefined, prefix), await redisStore(redisUrl!, undefined, prefix)];
    opened.push(one, two);
    expect((await one.hit('k', 5000)).count).toBe(1);
    expect((await two.hit('k', 5000)).count).toBe(2);
    const peeked = await one.peek('k');
    expect(peeked.count).toBe(2);
    expect(peeked.resetMs).toBeGreaterThan(4000);
  });

  it('counts an address\'s failures on every server instance, and still lets a correct credential in', async () => {
    const prefix = `sessiongraph-test:${randomBytes(6).toString('hex')}:`;
    const config = testConfig({ RATE_LIMIT_AUTH_FAILURES: '2' });
    const logger = createLogger('error', () => {});
    const apps: TestApp['app'][] = [];
    for (let i = 0; i < 2; i++) {
      const database = await pgliteTarget.open();
      databases.push(database);
      const store = await redisStore(redisUrl!, undefined, prefix);
      opened.push(store);
      apps.push(createApp({ db: database.db, logger, config, rateLimits: store }));
    }
    const send = (app: TestApp['app'], secret: string) =>
      app.fetch('http://sessiongraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
    expect((await send(apps[0]!, 'wrong-secret-number-one')).status).toBe(401);
    expect((await send(apps[1]!, 'wrong-secret-number-two')).status).toBe(401);
    // The third failure from this address, on either instance, is past the shared limit.
    expect((await send(apps[0]!, 'wrong-secret-number-three')).status).toBe(429);
    expect((await send(apps[1]!, 'wrong-secret-number-four')).status).toBe(429);
    // The owner's secret is checked all the same, and gets in.
    expect((await send(apps[0]!, config.auth.adminToken!)).status).toBe(200);
    expect((await send(apps[1]!, config.auth.adminToken!)).status).toBe(200);
  });

  it('names REDIS_URL when Redis cannot be reached at start', async () => {
    await expect(openRateLimitStore('redis://127.0.0.1:1')).rejects.toThrow(/^REDIS_URL: cannot connect to redis:\/\/127\.0\.0\.1:1/);
  });
});

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const redisServer = spawnSync('redis-server', ['--version']).status === 0;

describe.runIf(redisServer)('Redis going away while the server runs', () => {
  function startRedis(port: number) {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    return child;
  }

  async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('keeps serving with local counts, says so once in the log and in /readyz, and returns to Redis', async () => {
    const port = await freePort();
    let redis = startRedis(port);
    const logs: LogFields[] = [];
    const logger = createLogger('info', (line) => logs.push(JSON.parse(line) as LogFields));
    await until(async () => openRateLimitStore(`redis://127.0.0.1:${port}`).then((s) => s.close().then(() => true), () => false));
    const store = await redisStore(`redis://127.0.0.1:${port}`, logger);
    const database = await pgliteTarget.open();
    try {
      const config = testConfig({ RATE_LIMIT_AUTH_FAILURES: '3' });
      const app = createApp({ db: database.db, logger, config, rateLimits: store });
      const query = (authorization: string) =>
        app.fetch('http://sessiongraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
      const readiness = async () => (await (await app.fetch('http://sessiongraph.test/readyz')).json()) as { status: string };
      const admin = `Basic ${Buffer.from(`admin:${config.auth.adminToken}`).toString('base64')}`;
      expect(await readiness()).toEqual({ status: 'ok' });

      redis.kill('SIGKILL');
      await new Promise((resolve) => redis.once('exit', resolve));
      for (let i = 0; i < 3; i++) expect((await query(admin)).status).toBe(200);
      // Limits still hold, counted here.
      const wrong = `Basic ${Buffer.from('reporting:wrong-secret').toString('base64')}`;
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await query(wrong)).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      expect(await readiness()).toEqual({ status: 'degraded' });
      expect(logs.filter((l) => l.msg?.toString().startsWith('rate-limit store unreachable'))).toHaveLength(1);

      redis = startRedis(port);
      await until(async () => (await readiness()).status === 'ok', 15_000);
      expect((await query(admin)).status).toBe(200);
      expect(logs.some((l) => l.msg === 'rate-limit store reachable again')).toBe(true);
    } finally {
      redis.kill('SIGKILL');
      await store.close();
      await database.dispose();
    }
  });
});

describe('client addresses and who a failure locks out', () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.dispose()));
  });

  async function appWith(env: Record<string, string>) {
    const database = await pgliteTarget.open();
    databases.push(database);
    const config = testConfig({ RATE_LIMIT_AUTH_FAILURES: '3', ...env });
    const logs: LogFields[] = [];
    const app = createApp({ db: database.db, logger: createLogger('warn', (line) => logs.push(JSON.parse(line) as LogFields)), config, rateLimits: memoryStore() });
    const admin = `Basic ${Buffer.from(`admin:${config.auth.adminToken}`).toString('base64')}`;
    const send = async (authorization: string, forwardedFor?: string) =>
      (
        await app.fetch('http://sessiongraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
          body: JSON.stringify({ query: '{ __typename }' }),
        })
      ).status;
    return { app, admin, send, logs };
  }

  const wrongSession = () => `Bearer sgt_${randomBytes(32).toString('base64url')}`;

  it('lets a correct credential in from an address others failed from (one NAT)', async () => {
    const { send, admin } = await appWith({});
    const failures = [];
    for (let i = 0; i < 5; i++) failures.push(await send(wrongSession()));
    expect(failures).toEqual([401, 401, 401, 429, 429]);
    expect(await send(admin)).toBe(200);
    expect(await send('')).toBe(200); // anonymous: the schema, as ever
  });

  it('with TRUST_PROXY=1 takes the address the proxy saw, not what the client wrote', async () => {
    const { send } = await appWith({ TRUST_PROXY: '1' });
    // The attacker writes a new left-hand address each time; the proxy appends the real one.
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await send(wrongSession(), `10.0.0.${i}, 203.0.113.7`));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Someone else behind the same proxy is not locked out by it.
    expect(await send(wrongSession(), '198.51.100.2')).toBe(401);
  });

  it('with TRUST_PROXY naming the proxies walks back past them only', async () => {
    const { send } = await appWith({ TRUST_PROXY: '127.0.0.1,10.0.0.0/8' });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await send(wrongSession(), `1.2.3.${i}, 203.0.113.9, 10.1.2.3`));
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('never locks a token\'s owner out: guesses at its id from many addresses only show in a metric and a warning', async () => {
    const { send, admin, app, logs } = await appWith({ TRUST_PROXY: '1' });
    const guess = () => `Basic ${Buffer.from(`admin:guess-${randomBytes(8).toString('hex')}`).toString('base64')}`;
    // Ten guesses at the public id `admin`, each from an address (and a network) of its own.
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push(await send(guess(), `198.51.${100 + i}.7`));
    expect(statuses).toEqual(Array(10).fill(401));
    // The owner's correct secret gets in, from an address it never used.
    expect(await send(admin, '203.0.113.99')).toBe(200);
    expect(logs.filter((line) => String(line.msg).startsWith('repeated failed authentications naming one API token id'))).toEqual([
      expect.objectContaining({ level: 'warn', tokenId: 'admin', failures: 4 }),
    ]);
    const metrics = await (await app.fetch('http://sessiongraph.test/metrics', { headers: { authorization: admin } })).text();
    expect(metrics).toMatch(/^sessiongraph_api_token_failures_past_limit_total 7$/m);
  });

  it('throttles failures per network as well as per address: a /24 (IPv4) or a /64 (IPv6)', async () => {
    const { send, admin } = await appWith({ TRUST_PROXY: '1', RATE_LIMIT_AUTH_FAILURES: '100', RATE_LIMIT_NETWORK_AUTH_FAILURES: '3' });
    const spread = [];
    // One address each, all in 192.0.2.0/24: the network's count, not any address's, runs out.
    for (let i = 0; i < 5; i++) spread.push(await send(wrongSession(), `192.0.2.${10 + i}`));
    expect(spread).toEqual([401, 401, 401, 429, 429]);
    expect(await send(wrongSession(), '192.0.3.10')).toBe(401); // the next /24 is another network
    const v6 = [];
    for (let i = 0; i < 5; i++) v6.push(await send(wrongSession(), `2001:db8:0:7:${i}::1`));
    expect(v6).toEqual([401, 401, 401, 429, 429]);
    expect(await send(wrongSession(), '2001:db8:0:8::1')).toBe(401);
    // A correct credential from the throttled network still gets in.
    expect(await send(admin, '192.0.2.200')).toBe(200);
  });
});

describe('credentials of ours that have ended', () => {
  it('are answered 401 every time and never counted: a signed-out device may keep asking, guesses are still throttled', async () => {
    let clock = Date.now();
    const t = await createTestApp(pgliteTarget, { now: () => new Date(clock), env: { RATE_LIMIT_AUTH_FAILURES: '3', SESSION_TOKEN_LIFETIME_SECONDS: '60' } });
    try {
      const send = async (authorization: string) => {
        const response = await t.app.fetch('http://sessiongraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query: '{ viewer { session { id } } }' }),
        });
        const body = (await response.json()) as { errors?: { message: string; extensions?: { reason?: string } }[] };
        return { status: response.status, message: body.errors?.[0]?.message, reason: body.errors?.[0]?.extensions?.reason };
      };
      const mint = async (sessionId: string) =>
        (await t.graphql<{ createSessionToken: { token: { jwt: string } } }>('mutation ($id: ID!) { createSessionToken(input: { sessionId: $id }) { token { jwt } } }', { id: sessionId })).data!.createSessionToken.token.jwt;
      const identityId = await createIdentity(t);
      const [revoked, live] = [await createBrowserSession(t, identityId), await createBrowserSession(t, identityId)];
      const expiredJwt = await mint(live.id);
      clock += 120_000;
      const revokedJwt = await mint(revoked.id);
      expect((await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: revoked.id })).errors).toBeUndefined();
      const created = await t.graphql<{ createApiToken: { apiToken: { tokenId: string }; authorization: string } }>('mutation { createApiToken(input: { name: "retired" }) { apiToken { tokenId } authorization } }');
      const retiredApiToken = created.data!.createApiToken;
      expect((await t.graphql('mutation ($id: String!) { revokeApiToken(input: { tokenId: $id }) { apiToken { revokedAt } } }', { id: retiredApiToken.apiToken.tokenId })).errors).toBeUndefined();
      // The revocation set hears of the revocation through the feed.
      await expect.poll(async () => (await send(`Bearer ${revokedJwt}`)).status, { timeout: 2000, interval: 20 }).toBe(401);

      // A refused session token says why (mint a new one, or sign in again).
      const ended = {
        [`Bearer ${revoked.token}`]: { message: 'The session of this token is no longer active', reason: 'SESSION_NOT_ACTIVE' },
        [`Bearer ${revokedJwt}`]: { message: 'The session of this token is no longer active', reason: 'SESSION_NOT_ACTIVE' },
        [`Bearer ${expiredJwt}`]: { message: 'The token has expired', reason: 'TOKEN_EXPIRED' },
        [retiredApiToken.authorization]: { message: 'Invalid API client credentials', reason: undefined },
      };
      for (let round = 0; round < 4; round++) {
        for (const [authorization, refusal] of Object.entries(ended)) expect(await send(authorization)).toEqual({ status: 401, ...refusal });
      }
      // None of those sixteen counted: guesses from the same address get their three 401s, then 429.
      const guess = () => send(`Bearer sgt_${randomBytes(32).toString('base64url')}`);
      expect(await guess()).toEqual({ status: 401, message: 'Invalid or expired session token', reason: 'TOKEN_INVALID' });
      const guesses = [];
      for (let i = 0; i < 3; i++) guesses.push((await guess()).status);
      expect(guesses).toEqual([401, 401, 429]);
      expect(await send(`Bearer ${revokedJwt}`)).toEqual({ status: 401, message: 'The session of this token is no longer active', reason: 'SESSION_NOT_ACTIVE' });
      expect((await send(live.authorization)).status).toBe(200);
    } finally {
      await t.dispose();
    }
  });
});

describe('networks of client addresses', () => {
  it('masks IPv4 and IPv6 addresses (compressed, with a zone or a dotted tail) to their prefix', () => {
    expect(networkOf('203.0.113.77', 24, 64)).toBe('203.0.113.0/24');
    expect(networkOf('203.0.113.77', 16, 64)).toBe('203.0.0.0/16');
    expect(networkOf('2001:db8:1:2:3:4:5:6', 24, 64)).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(networkOf('2001:db8::1', 24, 48)).toBe('2001:db8:0:0:0:0:0:0/48');
    expect(networkOf('fe80::1%eth0', 24, 64)).toBe('fe80:0:0:0:0:0:0:0/64');
    expect(networkOf('64:ff9b::192.0.2.1', 24, 128)).toBe('64:ff9b:0:0:0:0:c000:201/128');
    expect(networkOf('2001:db8:1:2:3:4:5:6', 24, 60)).toBe('2001:db8:1:0:0:0:0:0/60');
    expect(networkOf('local', 24, 64)).toBeUndefined();
  });
});

describe('the client address resolver', () => {
  it('treats an IPv4-mapped IPv6 address as the IPv4 address, and walks IPv6 proxies too', () => {
    const request = (forwardedFor?: string) => new Request('http://sessiongraph.test/', { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} });
    const socket = (remoteAddress: string) => ({ socket: { remoteAddress } }) as never;
    expect(clientAddressResolver({ kind: 'none' })(request('1.1.1.1'), socket('::ffff:10.0.0.7'))).toBe('10.0.0.7');
    const byNetworks = clientAddressResolver({ kind: 'addresses', list: ['fd00::/8', '10.0.0.0/8'] });
    expect(byNetworks(request('2001:db8::1, 10.1.1.1'), socket('fd00::5'))).toBe('2001:db8::1');
    // A client that forges the whole header still ends at the first address no trusted proxy vouches for.
    expect(byNetworks(request('10.9.9.9, 203.0.113.5'), socket('fd00::5'))).toBe('203.0.113.5');
    expect(clientAddressResolver({ kind: 'hops', hops: 2 })(request('6.6.6.6, 198.51.100.1, 10.0.0.2'), socket('10.0.0.3'))).toBe('198.51.100.1');
  });
});
