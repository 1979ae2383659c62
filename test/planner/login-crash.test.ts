// A server killed (SIGKILL) in the middle of a stream of logins loses nothing it acknowledged and
// leaves nothing half-written: every login it answered is stored with its event and its device, no
// session is without its SESSION_CREATED event, and no event is without its session.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../support/databases.js';
import { startServer, type ServerProcess } from '../support/process.js';

const adminToken = 'login-crash-admin-token-0123456789';
const admin = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;
const login = `mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id } sessionToken } }`;

describe.runIf(process.env.TEST_DATABASE_URL)('logins when the server is killed on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let server: ServerProcess;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    // A loaded machine's PostgreSQL may take more than the default five seconds to accept a connection.
    server = await startServer({ DATABASE_URL: database.url, ADMIN_TOKEN: adminToken, NODE_ENV: 'production', DATABASE_CONNECT_TIMEOUT_MS: '30000' }, 60_000);
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop('SIGKILL');
    await database.drop();
  });

  it('keeps every acknowledged login with its event, and no session or event without the other', async () => {
    const post = async (query: string, variables: Record<string, unknown>) =>
      (await (await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: admin }, body: JSON.stringify({ query, variables }) })).json()) as {
        data?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      };
    const identity = await post('mutation { createIdentity(input: { traits: { email: "crash@example.com" } }) { identity { id } } }', {});
    const identityId = identity.data!.createIdentity.identity.id as string;
    const acknowledged: string[] = [];
    let killed = false;
    const writer = async () => {
      while (!killed) {
        try {
          const answer = await post(login, { input: { identityId, type: 'PASSKEY', devices: [{ userAgent: 'crash-test' }], authenticationMethods: [{ method: 'PASSKEY' }] } });
          if (answer.data?.createSession) acknowledged.push((answer.data.createSession.session.id as string).slice('Session:'.length));
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    // Kill it once logins are flowing, with several in flight.
    while (acknowledged.length < 40) await new Promise((resolve) => setTimeout(resolve, 10));
    killed = true;
    await server.stop('SIGKILL');
    await Promise.all(writers);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows: sessions } = await client.query<{ id: string; events: number; devices: number }>(
        `SELECT s.id, (SELECT count(*)::int FROM session_events e WHERE e.session_id = s.id AND e.type = 'SESSION_CREATED') AS events,
           (SELECT count(*)::int FROM devices d WHERE d.session_id = s.id) AS devices FROM sessions s`,
      );
      const stored = new Set(sessions.map((s) => s.id));
      for (const id of acknowledged) expect(stored.has(id)).toBe(true);
      expect(sessions.filter((s) => s.events !== 1 || s.devices !== 1)).toEqual([]);
      const { rows: orphans } = await client.query(`SELECT id FROM session_events WHERE type = 'SESSION_CREATED' AND session_id IS NULL`);
      expect(orphans).toEqual([]);
      expect(sessions.length).toBeGreaterThanOrEqual(acknowledged.length);
    } finally {
      await client.end();
    }
  });
});
