// Two server processes on one PostgreSQL (and one Redis when there is one), as a scaled-out
// deployment runs them: they migrate once between them, agree on every signed confirmation, share
// rate limits, and a session revoked through one is refused by the other at once.
import { randomBytes } from 'node:crypto';
import { createClient as createSseClient } from 'graphql-sse';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './support/app.js';
import { createPostgresDatabase } from './support/databases.js';
import { startServer, type ServerProcess } from './support/process.js';
import { confirmMutation, createBrowserSession, createIdentity } from './support/sessions.js';

const adminToken = 'scale-out-admin-token-0123456789';
const admin = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;
const redisUrl = process.env.TEST_REDIS_URL;

type Answer = { data?: Record<string, any>; errors?: { message: string; extensions?: Record<string, unknown> }[] }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The pieces of TestApp the session helpers use, against a running server. */
function client(server: ServerProcess): TestApp {
  const graphql = async (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as Answer) };
  };
  return { graphql } as unknown as TestApp;
}

describe.runIf(process.env.TEST_DATABASE_URL)('two instances on one PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    const env = {
      DATABASE_URL: database.url,
      ADMIN_TOKEN: adminToken,
      RATE_LIMIT_AUTH_FAILURES: '3',
      RATE_LIMIT_CONFIRMATIONS: '1000',
      // Each test below claims an address of its own: counts in a shared Redis outlive one run.
      TRUST_PROXY: '1',
      // Only a notification (LISTEN/NOTIFY, or Redis) can bring an event to the other instance in time.
      EVENT_POLL_MS: '60000',
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    };
    // Started together on an empty database: both try to migrate at once.
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  it('apply the migrations once between them', async () => {
    const applied = [a, b].filter((server) => server.logs.some((line) => line.msg === 'migrations applied'));
    expect(applied).toHaveLength(1);
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ migration_name: string; count: string }>(
        'SELECT migration_name, count(*) FROM _prisma_migrations GROUP BY migration_name',
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((row) => row.count === '1')).toBe(true);
    } finally {
      await db.end();
    }
  });

  it('let exactly one of 50 confirmations of one challenge win, across both', async () => {
    const [onA, onB] = [client(a), client(b)];
    const identityId = await createIdentity(onA);
    const [laptop, phone] = [await createBrowserSession(onA, identityId), await createBrowserSession(onA, identityId)];
    const requested = await onA.graphql<{ revokeSession: { challenge: { requestId: string; payloadToSign: string } } }>(
      'mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId payloadToSign } } }',
      { id: phone.id },
      { authorization: laptop.authorization },
    );
    const { requestId, payloadToSign } = requested.data!.revokeSession.challenge;
    const signature = await laptop.sign(payloadToSign);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? onA : onB).graphql(confirmMutation, { input: { requestId, signature } }, { authorization: laptop.authorization })),
    );
    expect(answers.filter((answer) => !answer.errors)).toHaveLength(1);
    expect(new Set(answers.flatMap((answer) => answer.errors?.map((e) => e.extensions?.code) ?? []))).toEqual(new Set(['CHALLENGE_CONSUMED']));
  });

  it('refuse a session on one instance the moment it is revoked through the other', async () => {
    const [onA, onB] = [client(a), client(b)];
    const session = await createBrowserSession(onA, await createIdentity(onA));
    const viewer = '{ viewer { session { id } } }';
    const asDevice = { authorization: session.authorization, 'x-forwarded-for': `203.0.113.${randomBytes(1)[0]}` };
    expect((await onB.graphql(viewer, {}, asDevice)).errors).toBeUndefined();
    const revoked = await onA.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id, reason: "test" }) { session { status } } }', { id: session.id });
    expect(revoked.errors).toBeUndefined();
    const refused = (await onB.graphql(viewer, {}, asDevice)) as Answer & { status: number };
    expect(refused.status).toBe(401);
  });

  it('tell a subscriber on one instance at once that a device was signed out through the other', async () => {
    const [onA, onB] = [client(a), client(b)];
    const identityId = await createIdentity(onA);
    const [laptop, phone] = [await createBrowserSession(onA, identityId), await createBrowserSession(onA, identityId)];
    // The phone listens on B (GraphQL over SSE) for its own account's revocations.
    const stream = createSseClient({ url: `${b.url}/graphql`, headers: { authorization: phone.authorization, 'x-forwarded-for': `203.0.113.${randomBytes(1)[0]}` }, retryAttempts: 0 })
      .iterate<{ sessionEvents: { type: string; session: { id: string } } }>({ query: 'subscription { sessionEvents(types: [SESSION_REVOKED]) { type session { id } } }' });
    const first = stream.next();
    const subscriptionsOnB = async () => {
      const response = await fetch(`${b.url}/metrics`, { headers: { authorization: admin } });
      return Number(/^sessiongraph_subscriptions (\d+)/m.exec(await response.text())?.[1]);
    };
    // The phone's (the server's own subscriptions are not counted).
    await expect.poll(subscriptionsOnB).toBe(1);
    const requested = await onA.graphql<{ revokeSession: { challenge: { requestId: string; payloadToSign: string } } }>(
      'mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId payloadToSign } } }',
      { id: phone.id },
      { authorization: laptop.authorization },
    );
    const { requestId, payloadToSign } = requested.data!.revokeSession.challenge;
    const confirmed = await onA.graphql(confirmMutation, { input: { requestId, signature: await laptop.sign(payloadToSign) } }, { authorization: laptop.authorization });
    expect(confirmed.errors).toBeUndefined();
    const committedAt = Date.now();
    const heard = await first;
    expect(Date.now() - committedAt).toBeLessThan(1000);
    expect(heard.value?.data?.sessionEvents).toEqual({ type: 'SESSION_REVOKED', session: { id: phone.id } });
    expect((await stream.next()).done).toBe(true);
  });

  it('deliver every login event once, in order, to subscribers resuming on either instance while both write', async () => {
    const [onA, onB] = [client(a), client(b)];
    const identityId = await createIdentity(onA);
    const uuid = identityId.slice('Identity:'.length);
    const login = async (on: TestApp) => {
      const answer = await on.graphql('mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }', { input: { identityId, type: 'PASSKEY' } });
      expect(answer.errors).toBeUndefined();
    };
    for (let i = 0; i < 10; i++) await login(i % 2 ? onA : onB);
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const eventIds = async (afterSequence = '0') =>
      (await db.query<{ id: string }>('SELECT id FROM session_events WHERE identity_id = $1 AND sequence > $2 ORDER BY sequence', [uuid, afterSequence])).rows.map((row) => `SessionEvent:${row.id}`);
    const { rows: [resumePoint] } = await db.query<{ id: string; sequence: string }>(
      'SELECT id, sequence FROM session_events WHERE identity_id = $1 ORDER BY sequence DESC OFFSET 4 LIMIT 1',
      [uuid],
    );
    const after = `SessionEvent:${resumePoint!.id}`;
    const subscription = 'subscription ($id: ID!, $after: ID) { sessionEvents(identityId: $id, after: $after) { id } }';
    /** Collects a stream's event ids; `stopAfter` ends it early (to resume elsewhere). */
    const follow = (server: ServerProcess, from: string, received: string[], stopAfter = Infinity) => {
      const stream = createSseClient({ url: `${server.url}/graphql`, headers: { authorization: admin }, retryAttempts: 0 }).iterate<{ sessionEvents: { id: string } }>({
        query: subscription,
        variables: { id: identityId, after: from },
      });
      const done = (async () => {
        for await (const message of stream) {
          if (!message.data) throw new Error(`the stream answered ${JSON.stringify(message)}`);
          received.push(message.data.sessionEvents.id);
          if (received.length >= stopAfter) break;
        }
      })();
      return { done, stop: () => stream.return?.() };
    };
    // Four subscribers, two on each instance, join while four writers log in through both; one of
    // them stops half-way and resumes on the other instance from the last id it got.
    const streams = Array.from({ length: 4 }, () => [] as string[]);
    const resumedPart: string[] = [];
    const subscribers = streams.map(async (received, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 40));
      const followed = follow(i % 2 ? a : b, after, received, i === 0 ? 20 : Infinity);
      if (i !== 0) return followed;
      await followed.done;
      return follow(b, received.at(-1)!, resumedPart);
    });
    // And a transaction held open on the side: its event is numbered before most of the logins
    // but commits after all of them, with no notification of its own.
    const early = new pg.Client({ connectionString: database.url });
    await early.connect();
    await early.query('BEGIN');
    await early.query(`INSERT INTO session_events (id, type, identity_id) VALUES (gen_random_uuid(), 'SESSION_ACTIVITY_RECORDED', $1)`, [uuid]);
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 12; i++) await login((w + i) % 2 ? onA : onB);
    });
    await Promise.all(writers);
    // Until it commits, every later login waits behind it (the first subscriber cannot get 20 yet).
    await early.query('COMMIT');
    await early.end();
    const followed = await Promise.all(subscribers);
    try {
      const expected = await eventIds(resumePoint!.sequence);
      expect(expected).toHaveLength(4 + 48 + 1);
      const views = [() => [...streams[0]!, ...resumedPart], ...streams.slice(1).map((received) => () => received)];
      for (const view of views) await expect.poll(() => view().length, { timeout: 10_000 }).toBe(expected.length);
      // Nothing more arrives: no duplicate.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const view of views) expect(view()).toEqual(expected);
      expect(resumedPart.length).toBe(expected.length - 20);
    } finally {
      for (const stream of followed) await stream.stop();
      await db.end();
    }
  }, 60_000);

  it.runIf(redisUrl)('share rate limits through Redis', async () => {
    const tokenId = `sgk_${randomBytes(6).toString('hex')}`;
    const address = `198.51.100.${randomBytes(1)[0]}`;
    const guess = async (server: ServerProcess) => {
      const headers = { authorization: `Basic ${Buffer.from(`${tokenId}:wrong-${randomBytes(4).toString('hex')}`).toString('base64')}`, 'x-forwarded-for': address };
      return ((await client(server).graphql('{ __typename }', {}, headers)) as { status: number }).status;
    };
    const statuses = [await guess(a), await guess(a), await guess(a), await guess(b)];
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
