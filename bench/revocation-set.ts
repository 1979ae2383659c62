// What the in-memory JWT revocation set costs a request: the security page as a session JWT reads
// it, on one server whose set is emptied and filled between measurements (CPU ms per request, in
// the order empty, full, full, empty, empty, full, …, so drift on a shared machine falls on both
// alike). Full is every seeded session but the measured ones revoked and every other identity
// deactivated (about 50,000 and 10,000 entries in a full run); empty is all of them restored, by
// events written straight into the table as the server's own writes would write them. A probe
// session, whose event is written last, tells when the server has taken the rest in. Run from
// bench/run.ts; the events it adds are deleted afterwards.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { eventChannel } from '../src/events/record.js';
import type { Measured } from './run.js';
import { securityPage } from './scenarios.js';
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

const marker = JSON.stringify({ bench: 'revocation-set' });
const measuredTokens = 200;

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
  let server: Server | undefined;
  try {
    const hashes = tokens.map((token) => createHash('sha256').update(token).digest());
    const { rows } = await client.query<{ id: string; identity_id: string; token_hash: Buffer }>('SELECT id, identity_id, token_hash FROM sessions WHERE token_hash = ANY($1)', [hashes]);
    const byHash = new Map(rows.map((row) => [row.token_hash.toString('hex'), row]));
    const [probe, ...measured] = [hashes.at(-1)!, ...hashes.slice(0, measuredTokens)].map((hash) => byHash.get(hash.toString('hex'))!);
    const keepSessions = measured.map((row) => row.id);
    const keepIdentities = measured.map((row) => row.identity_id);

    /** Ends (or restores) every session and identity but the measured ones, the probe's last; the server hears at once. */
    const write = async (ends: boolean) => {
      const sessionType = ends ? `'SESSION_REVOKED'` : `'SESSION_IMPORTED'`;
      const sessionDetails = ends ? '$2::jsonb' : `$2::jsonb || '{"status":"ACTIVE"}'`;
      const identityDetails = `$2::jsonb || '{"state":"${ends ? 'INACTIVE' : 'ACTIVE'}"}'`;
      await client.query('BEGIN');
      const sessions = await client.query(
        `INSERT INTO session_events (id, type, identity_id, session_id, details)
         SELECT gen_random_uuid(), ${sessionType}, identity_id, id, ${sessionDetails} FROM sessions WHERE NOT (id = ANY($1::uuid[]))`,
        [[...keepSessions, probe!.id], marker],
      );
      const identities = await client.query(
        `INSERT INTO session_events (id, type, identity_id, details)
         SELECT gen_random_uuid(), 'IDENTITY_STATE_CHANGED', id, ${identityDetails} FROM identities WHERE NOT (id = ANY($1::uuid[]))`,
        [keepIdentities, marker],
      );
      await client.query(
        `INSERT INTO session_events (id, type, identity_id, session_id, details) VALUES (gen_random_uuid(), ${sessionType}, $1, $3, ${sessionDetails})`,
        [probe!.identity_id, marker, probe!.id],
      );
      await client.query(`SELECT pg_notify('${eventChannel}', '')`);
      await client.query('COMMIT');
      return { sessions: (sessions.rowCount ?? 0) + 1, identities: identities.rowCount ?? 0 };
    };

    server = await bench.startServer({
      DATABASE_URL: bench.databaseUrl,
      // A generous connect timeout: PostgreSQL may still be writing out the rows the seed added.
      DATABASE_CONNECT_TIMEOUT_MS: '30000',
      SESSION_TOKEN_LIFETIME_SECONDS: '3600',
    });
    const ask = async (query: string, authorization: string) =>
      (await (await fetch(`http://127.0.0.1:${server!.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ query }) })).json()) as {
        data?: { viewer: { sessionToken: { jwt: string } } };
        errors?: unknown[];
      };
    const jwts: string[] = [];
    for (const token of tokens) {
      const minted = await ask('{ viewer { sessionToken { jwt } } }', `Bearer ${token}`);
      if (!minted.data) throw new Error(`could not mint a session JWT: ${JSON.stringify(minted.errors)}`);
      jwts.push(minted.data.viewer.sessionToken.jwt);
    }
    const probeJwt = `Bearer ${jwts.pop()!}`;
    let full = false;
    const become = async (wanted: boolean) => {
      if (full === wanted) return;
      const started = performance.now();
      const written = await write(wanted);
      // The probe's event is the newest: once it is taken in, so is everything before it.
      for (;;) {
        const refused = (await ask('{ viewer { session { id } } }', probeJwt)).errors !== undefined;
        if (refused === wanted) break;
        if (performance.now() - started > 120_000) throw new Error('the server did not take the revocation events in within 2 minutes');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      full = wanted;
      log(`revocation set ${wanted ? 'filled' : 'emptied'}: ${written.sessions} sessions, ${written.identities} identities, taken in within ${Math.round(performance.now() - started)} ms`);
    };

    const spec: Spec = {
      port: server.port,
      pid: server.process.pid,
      path: '/graphql',
      body: (i) => ({ body: { query: securityPage }, headers: { authorization: `Bearer ${jwts[i % jwts.length]}` } }),
    };
    const results = { empty: [] as Measured[], full: [] as Measured[] };
    for (let round = 0; round < bench.rounds; round++) {
      for (const which of round % 2 === 0 ? (['empty', 'full'] as const) : (['full', 'empty'] as const)) {
        await become(which === 'full');
        results[which].push(await bench.measure(spec));
      }
      log(`revocation set round ${round + 1}: CPU ms/request empty ${results.empty.at(-1)!.cpuMsPerRequest}, full ${results.full.at(-1)!.cpuMsPerRequest}`);
    }
    return { jwtSecurityPageEmptySet: { ours: combine(results.empty) }, jwtSecurityPageFullSet: { ours: combine(results.full) } };
  } finally {
    await server?.stop();
    await client.query('DELETE FROM session_events WHERE details @> $1::jsonb', [marker]);
    await client.end();
  }
}
