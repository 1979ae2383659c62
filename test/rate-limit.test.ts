import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
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
    expect((await send(apps[0]!, config.auth.adminToken!)).status).toBe(429);
    expect((await send(apps[1]!, config.auth.adminToken!)).status).toBe(429);
  });

  it('names REDIS_URL when Redis cannot be reached', async () => {
    await expect(openRateLimitStore('redis://127.0.0.1:1')).rejects.toThrow(/^REDIS_URL: cannot connect to redis:\/\/127\.0\.0\.1:1/);
  });
});
