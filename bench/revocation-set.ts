// What the in-memory JWT revocation set costs a request: the security page as a session JWT reads
// it, on two servers over the same database and keys, measured in turns (CPU ms per request). One
// server's set is empty; the other's holds every seeded session but the measured ones as revoked
// and every other identity as deactivated (about 50,000 and 10,000 entries in a full run). The
// entries are events dated two hours back: the "empty" server's tokens live at most an hour (its
// MAX_SESSION_TOKEN_LIFETIME_SECONDS), so it drops them as it loads; the other keeps them a day.
// Run from bench/run.ts; the events it adds are deleted afterwards.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { securityPage } from './scenarios.js';
import type { Measured } from './run.js';
import type { Population } from './seed.js';

interface Server {
  port: number;
  process: { pid?: number };
  stop(): Promise<void>;
}

interface Spec {
  port: number;
  pid?: number;
  path: string;
  body: (i: number) => { body: unknown; headers?: Record<string, string> };
}

export interface RevocationSetBench {
  databaseUrl: string;
  population: Population;
  startServer: (env: Record<string, string>) => Promise<Server>;
  /** Warms up, then measures (bench/run.ts's warmAndMeasure). */
  measure: (spec: Spec) => Promise<Measured>;
  rounds: number;
  log: (message: string) => void;
}

const marker = 'revocation-set';
const measuredTokens = 200;
const tokenKeySecret = 'bench-token-key-secret-5Jq8Wm2Xr7Lz';

/** The mean of each figure over the rounds (requests and errors summed). */
function combine(rounds: Measured[]): Measured {
  const mean = (pick: (m: Measured) => number | undefined) => {
    const values = rounds.map(pick).filter((v): v is number => v !== undefined);
    return values.length ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000 : undefined;
  };
  return {
    requestsPerSecond: Math.round(mean((m) => m.requestsPerSecond)!),
    p50Ms: mean((m) => m.p50Ms)!,
    p99Ms: mean((m) => m.p99Ms)!,
    requests: rounds.reduce((sum, m) => sum + m.requests, 0),
    errors: rounds.reduce((sum, m) => sum + m.errors, 0),
    cpuMsPerRequest: mean((m) => m.cpuMsPerRequest),
    postgresCpuMsPerRequest: mean((m) => m.postgresCpuMsPerRequest),
  };
}

export async function revocationSetScenarios(bench: RevocationSetBench): Promise<Record<string, { ours: Measured }>> {
  const { population, log } = bench;
  const tokens = population.tokens.slice(0, measuredTokens + 1);
  const client = new pg.Client({ connectionString: bench.databaseUrl });
  await client.connect();
  const servers: Server[] = [];
  try {
    // The measured sessions (and their identities) stay out of the set; the last token's session is put in it, as a probe.
    const hashes = tokens.map((token) => createHash('sha256').update(token).digest());
    const { rows } = await client.query<{ id: string; identity_id: string; token_hash: Buffer }>('SELECT id, identity_id, token_hash FROM sessions WHERE token_hash = ANY($1)', [hashes]);
    const byHash = new Map(rows.map((row) => [row.token_hash.toString('hex'), row]));
    const measured = hashes.slice(0, measuredTokens).map((hash) => byHash.get(hash.toString('hex'))!);
    const keepSessions = measured.map((row) => row.id);
    const keepIdentities = measured.map((row) => row.identity_id);
    const sessions = await client.query(
      `INSERT INTO session_events (id, type, identity_id, session_id, details, occurred_at)
       SELECT gen_random_uuid(), 'SESSION_REVOKED', identity_id, id, $2::jsonb, now() - interval '2 hours' FROM sessions WHERE NOT (id = ANY($1::uuid[]))`,
      [keepSessions, JSON.stringify({ bench: marker })],
    );
    const identities = await client.query(
      `INSERT INTO session_events (id, type, identity_id, details, occurred_at)
       SELECT gen_random_uuid(), 'IDENTITY_STATE_CHANGED', id, $2::jsonb, now() - interval '2 hours' FROM identities WHERE NOT (id = ANY($1::uuid[]))`,
      [keepIdentities, JSON.stringify({ bench: marker, previousState: 'ACTIVE', state: 'INACTIVE' })],
    );
    log(`revocation set: ${sessions.rowCount} revoked sessions and ${identities.rowCount} deactivated identities for the full set`);

    // A generous connect timeout: PostgreSQL may still be writing out the rows just added.
    const common = { DATABASE_URL: bench.databaseUrl, DATABASE_CONNECT_TIMEOUT_MS: '30000', TOKEN_KEY_SECRET: tokenKeySecret, SESSION_TOKEN_LIFETIME_SECONDS: '3600' };
    const empty = await bench.startServer({ ...common, MAX_SESSION_TOKEN_LIFETIME_SECONDS: '3600' });
    servers.push(empty);
    const full = await bench.startServer(common);
    servers.push(full);

    const ask = async (server: Server, query: string, authorization: string) =>
      (await (await fetch(`http://127.0.0.1:${server.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ query }) })).json()) as {
        data?: { viewer: { sessionToken: { jwt: string } } };
        errors?: unknown[];
      };
    const jwts: string[] = [];
    for (const token of tokens) {
      const minted = await ask(empty, '{ viewer { sessionToken { jwt } } }', `Bearer ${token}`);
      if (!minted.data) throw new Error(`could not mint a session JWT: ${JSON.stringify(minted.errors)}`);
      jwts.push(minted.data.viewer.sessionToken.jwt);
    }
    // The sets are what they should be: the probe is refused by the full one only.
    const probe = `Bearer ${jwts.pop()!}`;
    const answers = [await ask(empty, '{ viewer { session { id } } }', probe), await ask(full, '{ viewer { session { id } } }', probe)];
    if (answers[0]!.errors || !answers[1]!.errors) throw new Error(`the revocation sets are not as prepared: ${JSON.stringify(answers)}`);

    const spec = (server: Server): Spec => ({
      port: server.port,
      pid: server.process.pid,
      path: '/graphql',
      body: (i) => ({ body: { query: securityPage }, headers: { authorization: `Bearer ${jwts[i % jwts.length]}` } }),
    });
    const results = { empty: [] as Measured[], full: [] as Measured[] };
    for (let round = 0; round < bench.rounds; round++) {
      // In turns, each first every other round: drift on a shared machine falls on both alike.
      const order = round % 2 === 0 ? (['empty', 'full'] as const) : (['full', 'empty'] as const);
      for (const which of order) results[which].push(await bench.measure(spec(which === 'empty' ? empty : full)));
      log(`revocation set round ${round + 1}: CPU ms/request empty ${results.empty.at(-1)!.cpuMsPerRequest}, full ${results.full.at(-1)!.cpuMsPerRequest}`);
    }
    return { jwtSecurityPageEmptySet: { ours: combine(results.empty) }, jwtSecurityPageFullSet: { ours: combine(results.full) } };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await client.query(`DELETE FROM session_events WHERE details->>'bench' = $1`, [marker]);
    await client.end();
  }
}
