import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { clientAddressResolver } from '../src/http/client-address.js';
import { createLogger, type LogFields } from '../src/logger.js';
import { memoryStore, openRateLimitStore, redisStore, type RateLimitStore } from '../src/rate-limit.js';
import { createApp } from '../src/server.js';
import { testConfig, type TestApp } from './support/app.js';
import { pgliteTarget, type TestDatabase } from './support/databases.js';

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

  it('locks an address out on every server instance once it failed too often on any', async () => {
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
    // The token id is under attack and this address never used it: not even checked, on either.
    expect((await send(apps[0]!, config.auth.adminToken!)).status).toBe(429);
    expect((await send(apps[1]!, config.auth.adminToken!)).status).toBe(429);
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
    const app = createApp({ db: database.db, logger: createLogger('error', () => {}), config, rateLimits: memoryStore() });
    const admin = `Basic ${Buffer.from(`admin:${config.auth.adminToken}`).toString('base64')}`;
    const send = async (authorization: string, forwardedFor?: string) =>
      (
        await app.fetch('http://sessiongraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
          body: JSON.stringify({ query: '{ __typename }' }),
        })
      ).status;
    return { app, admin, send };
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

  it('throttles guesses at one token id from any number of addresses, but not its owner', async () => {
    const { send, admin } = await appWith({ TRUST_PROXY: '1' });
    const guess = () => `Basic ${Buffer.from(`admin:guess-${randomBytes(8).toString('hex')}`).toString('base64')}`;
    // The owner has used the token from its own address before the attack.
    expect(await send(admin, '192.0.2.10')).toBe(200);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await send(guess(), `198.51.100.${i}`));
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    // A correct guess from a new address is not even checked now.
    expect(await send(admin, '198.51.100.99')).toBe(429);
    expect(await send(admin, '192.0.2.10')).toBe(200);
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
