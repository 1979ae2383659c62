// A server killed with SIGKILL in the middle of logins loses nothing it acknowledged and leaves
// nothing half-written: every acknowledged login is stored with its event, and no session is
// without its event nor an event without its session. Only the HTTP API is used: it holds
// whichever way createSession writes.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../support/databases.js';
import { startServer, type ServerProcess } from '../support/process.js';

const adminToken = 'crash-test-admin-token-0123456789abcdef';
const admin = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;

describe.runIf(process.env.TEST_DATABASE_URL)('kill -9 during logins on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let server: ServerProcess;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    server = await startServer({ DATABASE_URL: database.url, ADMIN_TOKEN: adminToken });
  }, 60_000);
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await database?.drop();
  });

  const graphql = async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: Record<string, any>; errors?: unknown[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  it('keeps every acknowledged login with its event, and no session or event without the other', async () => {
    const created = await graphql('mutation { createIdentity(input: { traits: {} }) { identity { id } } }', {});
    expect(created.errors).toBeUndefined();
    const identityId = created.data!.createIdentity.identity.id as string;
    const login = `mutation ($input: CreateSessionInput!) {
      createSession(input: $input) { session { id } }
    }`;
    const input = {
      identityId,
      type: 'PASSKEY',
      devices: [{ userAgent: 'crash-test', ipAddress: '192.0.2.1' }],
      authenticationMethods: [{ method: 'PASSWORD', aal: 'AAL1' }],
    };
    const acknowledged: string[] = [];
    let failed = 0;
    const clients = Array.from({ length: 8 }, async () => {
      for (;;) {
        try {
          const answer = await graphql(login, { input });
          if (answer.errors) throw new Error(JSON.stringify(answer.errors));
          acknowledged.push(answer.data!.createSession.session.id as string);
        } catch {
          failed++;
          return; // the server is gone
        }
      }
    });
    // Killed mid-stream: logins are in flight on every client when it dies.
    await expect.poll(() => acknowledged.length, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(60);
    server.child.kill('SIGKILL');
    await Promise.all(clients);
    expect(failed).toBe(8);

    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const uuid = identityId.slice('Identity:'.length);
      const { rows: sessions } = await db.query<{ id: string; events: string; devices: string; methods: string }>(
        `SELECT s.id,
                (SELECT count(*) FROM session_events e WHERE e.session_id = s.id AND e.type = 'SESSION_CREATED') AS events,
                (SELECT count(*) FROM devices d WHERE d.session_id = s.id) AS devices,
                jsonb_array_length(s.authentication_methods)::text AS methods
           FROM sessions s WHERE s.identity_id = $1`,
        [uuid],
      );
      const stored = new Map(sessions.map((row) => [`Session:${row.id}`, row]));
      for (const id of acknowledged) expect(stored.has(id), `acknowledged ${id} is stored`).toBe(true);
      // Every stored login, acknowledged or caught by the kill after its commit, is whole.
      for (const row of sessions) expect([row.id, row.events, row.devices, row.methods]).toEqual([row.id, '1', '1', '1']);
      const { rows: orphans } = await db.query(
        `SELECT e.id FROM session_events e WHERE e.identity_id = $1 AND e.type = 'SESSION_CREATED'
            AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = e.session_id)`,
        [uuid],
      );
      expect(orphans).toEqual([]);
      const { rows: events } = await db.query<{ count: string }>(`SELECT count(*) FROM session_events WHERE identity_id = $1 AND type = 'SESSION_CREATED'`, [uuid]);
      expect(Number(events[0]!.count)).toBe(sessions.length);
    } finally {
      await db.end();
    }
  }, 60_000);
});
