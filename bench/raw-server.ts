// The limit to compare against: the same reads as scenarios 1–3, as hand-written SQL through `pg`
// from a plain Node HTTP handler (same pool size), no GraphQL, no ORM. Started as its own process
// by bench/run.ts; prints its port when it listens.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });

const sessionColumns = `s.id, s.status, s.type, s.nickname, s.created_at, s.expires_at, s.last_active_at, s.aal, s.authentication_methods`;

async function securityPage(token: string) {
  const hash = createHash('sha256').update(token).digest();
  const caller = await pool.query(
    `SELECT s.id, s.status, s.expires_at, i.id AS identity_id, i.traits FROM sessions s JOIN identities i ON i.id = s.identity_id WHERE s.token_hash = $1`,
    [hash],
  );
  const me = caller.rows[0];
  if (!me || me.status !== 'ACTIVE') return { errors: [{ message: 'unauthenticated' }] };
  const sessions = await pool.query(
    `SELECT ${sessionColumns} FROM sessions s WHERE s.identity_id = $1 ORDER BY s.created_at DESC, s.id DESC LIMIT 51`,
    [me.identity_id],
  );
  const page = sessions.rows.slice(0, 50);
  const devices = await pool.query(
    `SELECT session_id, id, user_agent, ip_address, location, last_seen_at FROM devices WHERE session_id = ANY($1::uuid[]) ORDER BY last_seen_at DESC, id DESC`,
    [page.map((s) => s.id)],
  );
  const bySession = new Map<string, unknown[]>();
  for (const device of devices.rows) bySession.set(device.session_id, [...(bySession.get(device.session_id) ?? []), device]);
  return {
    data: { viewer: { identity: { id: me.identity_id, traits: me.traits, sessions: page.map((s) => ({ ...s, devices: bySession.get(s.id) ?? [] })) } } },
  };
}

async function activePage(cursor: { createdAt: string; id: string }) {
  const rows = await pool.query(
    `SELECT s.id, s.status, s.type, s.client_id, s.created_at, s.expires_at, s.identity_id FROM sessions s
     WHERE s.status = 'ACTIVE' AND (s.expires_at IS NULL OR s.expires_at > now()) AND (s.abandon_at IS NULL OR s.abandon_at > now())
       AND (s.created_at, s.id) < ($1, $2)
     ORDER BY s.created_at DESC, s.id DESC LIMIT 51`,
    [cursor.createdAt, cursor.id],
  );
  return { data: { sessions: rows.rows.slice(0, 50) } };
}

async function nodes(ids: { identity: string[]; session: string[]; device: string[] }) {
  const [identities, sessions, devices] = await Promise.all([
    pool.query('SELECT id, traits, state FROM identities WHERE id = ANY($1::uuid[])', [ids.identity]),
    pool.query('SELECT id, status, type FROM sessions WHERE id = ANY($1::uuid[])', [ids.session]),
    pool.query('SELECT id, user_agent FROM devices WHERE id = ANY($1::uuid[])', [ids.device]),
  ]);
  return { data: { nodes: [...identities.rows, ...sessions.rows, ...devices.rows] } };
}

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', async () => {
    try {
      const input = JSON.parse(body || '{}');
      const result =
        req.url === '/security' ? await securityPage(input.token) : req.url === '/sessions' ? await activePage(input.cursor) : await nodes(input.ids);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    } catch (error) {
      res.writeHead(500).end(JSON.stringify({ errors: [{ message: (error as Error).message }] }));
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as { port: number }).port }));
});
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
