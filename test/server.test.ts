import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { authenticationRequired } from '../src/auth/guards.js';
import { createApp, unopenedDatabase } from '../src/server.js';
import { startHttpServer } from '../src/http/listener.js';
import { memoryStore } from '../src/rate-limit.js';
import { createTestApp, testConfig, type TestApp } from './support/app.js';
import { databaseTargets, pgliteTarget } from './support/databases.js';

describe.each(databaseTargets)('server on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('answers { __typename } at /graphql', async () => {
    expect(await t.graphql('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
  });

  it('reads an identity, a session and its devices by readable global id', async () => {
    const identity = await t.db.prisma.identity.create({
      data: {
        traits: { email: 'ada@example.com' },
        sessions: {
          create: {
            type: 'PASSKEY',
            nickname: 'Ada’s laptop',
            expiresAt: new Date(Date.now() + 3600_000),
            devices: { create: [{ userAgent: 'Firefox', ipAddress: '192.0.2.1', location: 'Berlin, DE' }] },
          },
        },
      },
      include: { sessions: true },
    });
    const sessionId = `Session:${identity.sessions[0]!.id}`;
    const result = await t.graphql<{ session: Record<string, unknown>; identity: Record<string, unknown> }>(
      `query ($session: ID!, $identity: ID!) {
        session(id: $session) {
          id type nickname status active
          identity { id traits }
          devices { userAgent ipAddress location session { id } }
        }
        identity(id: $identity) { id state traits }
      }`,
      { session: sessionId, identity: `Identity:${identity.id}` },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      session: {
        id: sessionId,
        type: 'PASSKEY',
        nickname: 'Ada’s laptop',
        status: 'ACTIVE',
        active: true,
        identity: { id: `Identity:${identity.id}`, traits: { email: 'ada@example.com' } },
        devices: [{ userAgent: 'Firefox', ipAddress: '192.0.2.1', location: 'Berlin, DE', session: { id: sessionId } }],
      },
      identity: { id: `Identity:${identity.id}`, state: 'ACTIVE', traits: { email: 'ada@example.com' } },
    });

    const viaNode = await t.graphql<{ nodes: unknown[] }>(
      `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`,
      { ids: [sessionId, `Identity:${identity.id}`, 'Session:0195f000-0000-7000-8000-000000000000'] },
    );
    expect(viaNode).toEqual({
      data: {
        nodes: [
          { __typename: 'Session', id: sessionId },
          { __typename: 'Identity', id: `Identity:${identity.id}` },
          null,
        ],
      },
    });
  });

  it('reads a session past its expiry as EXPIRED and inactive before anything rewrites it', async () => {
    const identity = await t.db.prisma.identity.create({
      data: { sessions: { create: { expiresAt: new Date(Date.now() - 1000) } } },
      include: { sessions: true },
    });
    const result = await t.graphql(`query ($id: ID!) { session(id: $id) { status active } }`, {
      id: `Session:${identity.sessions[0]!.id}`,
    });
    expect(result.data).toEqual({ session: { status: 'EXPIRED', active: false } });
  });

  it('answers null for an id that does not exist', async () => {
    const result = await t.graphql(`{ session(id: "Session:0195f000-0000-7000-8000-000000000000") { id } }`);
    expect(result).toEqual({ data: { session: null } });
  });

  it.each([
    ['not-an-id', /Invalid id "not-an-id": expected "<Type>:<uuid>"/],
    ['Session:123', /Invalid id "Session:123"/],
    ['Wallet:0195f000-0000-7000-8000-000000000000', /Invalid id "Wallet:/],
    ['Identity:0195f000-0000-7000-8000-000000000000', /expected an id of type Session, got one of type Identity/],
  ])('refuses the id %s with BAD_USER_INPUT naming it', async (id, message) => {
    const result = await t.graphql(`query ($id: ID!) { session(id: $id) { id } }`, { id });
    expect(result.data).toEqual({ session: null });
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.message).toMatch(message);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', value: id });
  });

  it('codes a query that does not fit the schema GRAPHQL_VALIDATION_FAILED', async () => {
    const result = await t.graphql('{ sessionz { id } }');
    expect(result.errors?.[0]?.message).toMatch(/Cannot query field "sessionz"/);
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses strings with a NUL character, which PostgreSQL cannot store', async () => {
    for (const [query, variables] of [
      ['query ($id: ID!) { session(id: $id) { id } }', { id: 'Session:\u0000' }],
      ['{ sessions(filter: { clientId: "a\\u0000b" }) { totalCount } }', {}],
    ] as const) {
      const result = await t.graphql(query, variables);
      expect(result.errors?.[0]?.message).toMatch(/NUL character/);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('refuses a malformed id given to node(id:) the same way', async () => {
    const result = await t.graphql(`{ node(id: "Session:nope") { id } }`);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('serves GraphiQL with every asset inlined and the example query preloaded', async () => {
    const response = await t.app.fetch('http://sessiongraph.test/graphql', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<title>sessiongraph</title>');
    expect(html).toContain('query RecentSessions');
    // No <script src>, <link href> or CSS import pointing at another host.
    const references = [...html.matchAll(/<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(references.filter((ref) => /^(https?:)?\/\//.test(ref!))).toEqual([]);
    expect(html).not.toMatch(/@import\s+url\(\s*["']?(https?:)?\/\//);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr\.net|cdnjs/);
  });

  it('sends GraphiQL compressed when the browser accepts it, and lets it revalidate', async () => {
    const page = (headers: Record<string, string>) => t.app.fetch('http://sessiongraph.test/graphql', { headers: { accept: 'text/html', ...headers } });
    const plain = await page({});
    const html = await plain.text();
    expect(plain.headers.get('etag')).toMatch(/^"[\w-]+"$/);
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    expect(plain.headers.get('x-request-id')).toEqual(expect.any(String));
    for (const [encoding, decode] of [['br', brotliDecompressSync], ['gzip', gunzipSync]] as const) {
      const response = await page({ 'accept-encoding': `${encoding}, deflate` });
      expect(response.headers.get('content-encoding')).toBe(encoding);
      expect(response.headers.get('vary')).toBe('Accept-Encoding');
      // The fetch API would undo the encoding; read the bytes as sent.
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.length).toBeLessThan(html.length / 3);
      expect(decode(body).toString()).toBe(html);
    }
    const again = await page({ 'if-none-match': plain.headers.get('etag')!, 'accept-encoding': 'gzip' });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('answers /healthz and /readyz, and sends / to GraphiQL', async () => {
    const health = await t.app.fetch('http://sessiongraph.test/healthz');
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await t.app.fetch('http://sessiongraph.test/readyz');
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ok' }]);
    const root = await t.app.fetch('http://sessiongraph.test/', { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/graphql']);
  });

  it('logs one JSON line per request, with a request id it also returns', async () => {
    const before = t.logs.length;
    const response = await t.app.fetch('http://sessiongraph.test/healthz', { headers: { 'x-request-id': 'trace-123' } });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
    const lines = t.logs.slice(before);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'request', requestId: 'trace-123', method: 'GET', path: '/healthz', status: 200 }),
    ]);
    expect(typeof lines[0]!.durationMs).toBe('number');
  });
});

describe('readiness when the database is gone', () => {
  it('answers 503 from /readyz while /healthz stays up', async () => {
    const database = await pgliteTarget.open();
    const app = createApp({ db: database.db, logger: createLogger('error', () => {}), config: testConfig(), rateLimits: memoryStore() });
    await database.dispose();
    const ready = await app.fetch('http://sessiongraph.test/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable' });
    expect((await app.fetch('http://sessiongraph.test/healthz')).status).toBe(200);
  });
});

describe('graceful stop', () => {
  it('finishes the request in flight, then closes', async () => {
    const database = await pgliteTarget.open();
    try {
      const app = createApp({ db: database.db, logger: createLogger('error', () => {}), config: testConfig(), rateLimits: memoryStore() });
      // Hold the one request open until stop() has begun.
      const slowReadiness = database.db.ping;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      (database.db as { ping: () => Promise<void> }).ping = async () => {
        await held;
        return slowReadiness();
      };
      const running = await startHttpServer(app, { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 5000, logger: createLogger('error', () => {}) });
      const port = (running.server.address() as { port: number }).port;
      const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/readyz' }, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        })
          .on('error', reject)
          .end();
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopped = running.stop();
      let stoppedYet = false;
      void stopped.then(() => (stoppedYet = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stoppedYet).toBe(false); // still waiting for the request
      release();
      expect(await inFlight).toEqual({ status: 200, body: JSON.stringify({ status: 'ok' }) });
      await stopped;
      // New connections are refused.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await database.dispose();
    }
  });
});

describe('the real HTTP server under abuse', () => {
  it('answers a chunked body over the limit with 413 and closes the connection at once', async () => {
    const database = await pgliteTarget.open();
    const app = createApp({ db: database.db, logger: createLogger('error', () => {}), config: testConfig({ MAX_REQUEST_BODY_BYTES: '2048' }), rateLimits: memoryStore() });
    const running = await startHttpServer(app, { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 1000, logger: createLogger('error', () => {}) });
    try {
      const port = (running.server.address() as { port: number }).port;
      const started = Date.now();
      const outcome = await new Promise<{ status: number; connection?: string; closedMs: number }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
        req.on('error', reject);
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => req.socket?.once('close', () => resolve({ status: res.statusCode!, connection: res.headers.connection, closedMs: Date.now() - started })));
        });
        // Keeps sending, as an attacker would, well past the limit.
        req.write(`{"query":"{ __typename }","variables":{"pad":"${'x'.repeat(4096)}`);
      });
      expect(outcome).toMatchObject({ status: 413, connection: 'close' });
      expect(outcome.closedMs).toBeLessThan(2000);
    } finally {
      await running.stop();
      await database.dispose();
    }
  });

  it('logs a 500 with the request id it answered with', async () => {
    const database = await pgliteTarget.open();
    const logs: Record<string, unknown>[] = [];
    const app = createApp({ db: database.db, logger: createLogger('debug', (line) => logs.push(JSON.parse(line))), config: testConfig(), rateLimits: memoryStore() });
    // The database goes away: authenticating a session then fails outside any resolver.
    await database.dispose();
    const response = await app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sgt_whatever', 'x-request-id': 'trace-500' },
      body: JSON.stringify({ query: '{ viewer { session { id } } }' }),
    });
    expect(response.status).toBe(500);
    expect(await response.text()).not.toMatch(/at .*\.(ts|js)/);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'unexpected error', requestId: 'trace-500', error: expect.objectContaining({ stack: expect.any(String) }) }));
  });
});

describe('while the database opens', () => {
  it('answers schema requests, refuses data as to any anonymous caller, and says it is not ready', async () => {
    const logs: Record<string, unknown>[] = [];
    const app = createApp({
      db: unopenedDatabase(authenticationRequired),
      logger: createLogger('debug', (line) => logs.push(JSON.parse(line))),
      config: testConfig({ TOKEN_KEY_SECRET: '' }),
      rateLimits: memoryStore(),
    });
    const ask = async (query: string) =>
      (await app.fetch('http://sessiongraph.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })).json();
    expect(await ask('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    expect((await ask('{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    for (const query of ['{ identity(id: "user_someone") { id } }', '{ sessions { totalCount } }', '{ node(id: "Session:00000000-0000-7000-8000-000000000000") { id } }']) {
      const refused = await ask(query);
      expect(refused.errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
    }
    const ready = await app.fetch('http://sessiongraph.test/readyz');
    expect([ready.status, await ready.json()]).toEqual([503, { status: 'unavailable' }]);
    expect(logs.filter((line) => line.level === 'error')).toEqual([]);
  });
});
