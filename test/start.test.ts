// Stopping the server process on PostgreSQL: a statement that waits on a lock held by another
// application must not hold the stop for ever, nor be left half-written.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from './support/databases.js';
import { startServer, type ServerProcess } from './support/process.js';

const adminToken = 'start-test-admin-token-0123456789';
const admin = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;

describe.runIf(process.env.TEST_DATABASE_URL)('stopping on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let server: ServerProcess | undefined;
  let holder: pg.Client | undefined;
  beforeAll(async () => {
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await holder?.end().catch(() => {});
    await database?.drop();
  });

  it('ends within its budget (twice SHUTDOWN_TIMEOUT_MS and 2 s) while a write waits on a row lock held elsewhere; that write is then whole or absent', async () => {
    server = await startServer({ DATABASE_URL: database.url, ADMIN_TOKEN: adminToken, SHUTDOWN_TIMEOUT_MS: '1000' });
    const graphql = async (query: string, variables: Record<string, unknown>) =>
      (await (await fetch(`${server!.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: admin }, body: JSON.stringify({ query, variables }) })).json()) as {
        data?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      };
    const identity = await graphql(`mutation { createIdentity(input: { traits: {} }) { identity { id } } }`, {});
    const login = await graphql(`mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id lastActiveAt } } }`, {
      input: { identityId: identity.data!.createIdentity.identity.id, type: 'PASSWORD' },
    });
    const session = login.data!.createSession.session as { id: string; lastActiveAt: string };
    const rowId = session.id.slice('Session:'.length);

    // Another application holds the session's row: the activity's statement waits for it.
    holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [rowId]);
    const touch = fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin },
      body: JSON.stringify({ query: `mutation ($input: RecordSessionActivityInput!) { recordSessionActivity(input: $input) { session { id } } }`, variables: { input: { sessionId: session.id } } }),
    }).catch((error: unknown) => error);
    const waiting = async () =>
      Number((await holder!.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n);
    for (let tries = 0; (await waiting()) === 0; tries++) {
      expect(tries, 'the activity never waited on the lock').toBeLessThan(200);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    const asked = Date.now();
    const exited = server.stop('SIGTERM');
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    expect(code).toBe(0);
    // Its budget: the webhooks' 2 s, the requests' 1 s and as long again for the rest.
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(server.logs.at(-1)).toMatchObject({ level: 'warn', msg: expect.stringMatching(/^the stop did not finish in time/), step: 'closing the database', budgetMs: 4000 });
    await touch;

    // PostgreSQL finds the connection closed only when it answers: once the lock is free the waiting
    // statement runs, as one statement, with its event or not at all.
    await holder.query('COMMIT');
    const others = async () =>
      Number((await holder!.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`)).rows[0].n);
    for (let tries = 0; (await others()) > 0; tries++) {
      expect(tries, "the server's connections never ended").toBeLessThan(200);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const { rows } = await holder.query(
      `SELECT s.last_active_at > $2::timestamptz AS touched, (SELECT count(*) FROM session_events e WHERE e.session_id = s.id AND e.type = 'SESSION_ACTIVITY_RECORDED')::int AS events
       FROM sessions s WHERE s.id = $1`,
      [rowId, session.lastActiveAt],
    );
    expect([{ touched: false, events: 0 }, { touched: true, events: 1 }]).toContainEqual(rows[0]);
  }, 60_000);
});
