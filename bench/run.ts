// npm run bench [-- --quick [--writes]] [--out results.json]
// Seeds PostgreSQL, starts sessiongraph as its own process (production mode) and a raw-SQL baseline,
// drives both over loopback with autocannon, and reports throughput, latency (µs), GraphQL errors,
// SQL statements per request, the server's memory and its cold start on an empty embedded database.
// Writes a markdown table to stdout and bench/results/latest.json.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { p256 } from '@noble/curves/nist.js';
import autocannon from 'autocannon';
import pg from 'pg';
import { authenticatesSql } from '../src/auth/session-rows.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { applyMigrations } from '../src/db/migrations.js';
import { buildTemplate } from '../src/db/pglite-template.js';
import { createLogger } from '../src/logger.js';
import { memoryStore } from '../src/rate-limit.js';
import { encodeCursor } from '../src/schema/pagination.js';
import { createApp } from '../src/server.js';
import {
  activePage,
  admin,
  adminToken,
  confirmMutation,
  deepActiveSession,
  entitiesQuery,
  globalIds,
  mixedIds,
  nodesQuery,
  peerNodeIds,
  peerNodesQuery,
  peerSecurityPage,
  revokeMutation,
  securityPage,
} from './scenarios.js';
import { revocationSetScenarios } from './revocation-set.js';
import { withLockWaits, type LockWaits } from './lock-waits.js';
import { seed, type Population } from './seed.js';
import { vendorScenarios } from './vendors.js';
import { webhookBench, webhookBenchLine } from './webhooks.js';
import { scriptEnv, startCommand } from './start-command.js';
import { describeNpmStart, measureNpmStart, type NpmStartResults } from './start-time.js';
import { embeddedMemory, embeddedMemoryLine } from './embedded-memory.js';
import { importFigures, importLine, type ImportFigures } from './import.js';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const quick = process.argv.includes('--quick');
const outIndex = process.argv.indexOf('--out');
const outFile = outIndex > 0 ? resolve(process.argv[outIndex + 1]!) : join(root, 'bench/results/latest.json');
export const plan = quick
  ? { identities: 500, revocations: 100, pgliteIdentities: 200, warmupS: 0.5, durationS: 1.5, connections: 10 }
  : { identities: 10_000, revocations: 1000, pgliteIdentities: 2000, warmupS: 3, durationS: 10, connections: 20 };
export const poolSize = 10;
export const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

// ---------------------------------------------------------------- processes

interface Child {
  process: ChildProcess;
  port: number;
  rss: number[];
  stop(): Promise<void>;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

export function startChild(args: string[], env: Record<string, string>, portOf: (line: string) => number | undefined): Promise<Child & { startedMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const port = portOf(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (port) {
          // From here on only drain the output (one log line per request): parsing it would load this process.
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          const rss: number[] = [];
          const sampler = setInterval(() => {
            try {
              rss.push(rssOf(child.pid!));
            } catch {
              clearInterval(sampler);
            }
          }, 250);
          resolvePromise({
            process: child,
            port,
            rss,
            startedMs: performance.now() - started,
            stop: () =>
              new Promise((done) => {
                clearInterval(sampler);
                child.once('exit', () => done());
                child.kill('SIGTERM');
              }),
          });
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr}`)));
  });
}

/** The port from the server's log line `msg` (ready: database open; listening: schema requests answered). */
const portFrom = (msg: string) => (line: string) => {
  try {
    const entry = JSON.parse(line);
    return entry.msg === msg ? Number(new URL(entry.url).port) : undefined;
  } catch {
    return undefined;
  }
};
const serverPort = portFrom('sessiongraph ready');

export function startServer(env: Record<string, string>, readyWhen = serverPort) {
  // The compiled server, as it is deployed: npm run build, then npm start's command.
  const command = startCommand();
  return startChild(command.args, {
    ...scriptEnv(command, process.env),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_TOKEN: adminToken,
    DATABASE_POOL_SIZE: String(poolSize),
    // Limits that would throttle a load test from one address.
    RATE_LIMIT_AUTH_FAILURES: '100000000',
    RATE_LIMIT_NETWORK_AUTH_FAILURES: '100000000',
    RATE_LIMIT_CONFIRMATIONS: '100000000',
    // Session tokens are off on PostgreSQL without one. One secret for every server of the run: the
    // signing keys the first one seals, the later ones must unseal (the mints failed when they differed).
    TOKEN_KEY_SECRET: 'bench-token-key-secret-0123456789abcdef',
    ...env,
  }, readyWhen);
}

/** A server as soon as it listens (it answers schema requests before its database is open). */
const startColdServer = (env: Record<string, string>) => startServer(env, portFrom('sessiongraph listening'));

// ---------------------------------------------------------------- load

export interface Measured {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** CPU time (user + system) the measured server spent per request: steadier than req/s on shared cores. */
  cpuMsPerRequest?: number;
  /** CPU time every PostgreSQL process spent per request. */
  postgresCpuMsPerRequest?: number;
  /** CPU time this process (autocannon, the load generator) spent per request. */
  clientCpuMsPerRequest?: number;
}

// ---------------------------------------------------------------- CPU time, from /proc (Linux)

const clockTicksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of a process, in ms; 0 when it is gone. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return 0;
  }
}

/** CPU time of each PostgreSQL process on this machine (the bench's server is local), in ms by pid. */
function postgresCpu(): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'postgres') byPid.set(Number(entry), cpuMsOf(Number(entry)));
    } catch {
      // gone between readdir and read
    }
  }
  return byPid;
}

/** What PostgreSQL spent since `before`: backends that ended meanwhile are not counted (a slight undercount). */
function postgresCpuSince(before: Map<number, number>): number {
  let spent = 0;
  for (const [pid, ms] of postgresCpu()) spent += ms - (before.get(pid) ?? 0);
  return spent;
}

export interface LoadSpec {
  port: number;
  /** The server's process, to count its CPU time. */
  pid?: number;
  path: string;
  headers?: Record<string, string>;
  /** The i-th request's JSON body (and extra headers; a GET, or another path, when it says so). */
  body: (i: number) => { body?: unknown; headers?: Record<string, string>; method?: 'GET' | 'POST'; path?: string } | undefined;
  durationS?: number;
  amount?: number;
  overallRate?: number;
  connections?: number;
  onBody?: (body: string) => void;
}

export async function load(spec: LoadSpec): Promise<Measured> {
  const histogram = createHistogram();
  let errors = 0;
  let firstError: string | undefined;
  let sent = 0;
  const cpuBefore = spec.pid ? cpuMsOf(spec.pid) : 0;
  const clientBefore = process.cpuUsage();
  const postgresBefore = postgresCpu();
  const started = performance.now();
  let finish!: (result: autocannon.Result) => void;
  let fail!: (error: unknown) => void;
  const finished = new Promise<autocannon.Result>((resolvePromise, rejectPromise) => ((finish = resolvePromise), (fail = rejectPromise)));
  const instance = autocannon({
    url: `http://127.0.0.1:${spec.port}`,
    connections: spec.connections ?? plan.connections,
    duration: spec.durationS ?? plan.durationS,
    amount: spec.amount,
    overallRate: spec.overallRate,
    // autocannon ends a run at its next sample tick (1 s by default): the time to that tick counted
    // in req/s, up to a second of a two-second run. A short tick ends it on time.
    sampleInt: 50,
    requests: [
      {
        method: 'POST',
        path: spec.path,
        setupRequest: (request) => {
          const next = spec.body(sent++);
          if (!next) return request;
          if (next.method === 'GET') return { ...request, method: 'GET', path: next.path ?? spec.path, headers: { ...spec.headers, ...next.headers }, body: undefined };
          return {
            ...request,
            headers: { 'content-type': 'application/json', ...spec.headers, ...next.headers },
            body: JSON.stringify(next.body),
          };
        },
        onResponse: (status, body) => {
          // GraphQL errors arrive with HTTP 200: count them from the body.
          if (status !== 200 || body.includes('"errors"')) {
            errors++;
            firstError ??= `HTTP ${status}: ${body.slice(0, 300)}`;
          }
          spec.onBody?.(body);
        },
      },
    ],
  }, (error, result) => (error ? fail(error) : finish(result)));
  // autocannon rounds its own latencies to whole milliseconds; keep microseconds here.
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) =>
    histogram.record(Math.max(1, Math.round(responseTime * 1000))),
  );
  const result = await finished;
  // A figure made of failed requests measures the failure: say so where the run is watched.
  if (firstError) log(`${errors} of ${result.requests.total} requests failed (port ${spec.port} ${spec.path}); the first: ${firstError}`);
  const perRequest = (ms: number) => Math.round((ms / Math.max(1, result.requests.total)) * 1000) / 1000;
  return {
    ...(spec.pid ? { cpuMsPerRequest: perRequest(cpuMsOf(spec.pid) - cpuBefore) } : {}),
    postgresCpuMsPerRequest: perRequest(postgresCpuSince(postgresBefore)),
    clientCpuMsPerRequest: perRequest(((client) => (client.user + client.system) / 1000)(process.cpuUsage(clientBefore))),
    // Our own clock: autocannon's duration is whole seconds, too coarse for short, fixed-amount runs.
    requestsPerSecond: Math.round(result.requests.total / ((performance.now() - started) / 1000)),
    p50Ms: histogram.count ? histogram.percentile(50) / 1000 : 0,
    p99Ms: histogram.count ? histogram.percentile(99) / 1000 : 0,
    requests: result.requests.total,
    errors,
  };
}

export async function warmAndMeasure(spec: LoadSpec): Promise<Measured> {
  await load({ ...spec, durationS: plan.warmupS });
  return load(spec);
}

// ---------------------------------------------------------------- the peer

/**
 * The identity of each session token (PostGraphile, with no auth, is asked by identity), or another
 * column of its session. `authenticating`: only the tokens that authenticate now, as the server
 * decides (the reads before the writes revoke some of the population's sessions).
 */
export async function identitiesOfTokens(databaseUrl: string, tokens: string[], column: 'identity_id' | 'id' = 'identity_id', { authenticating = false } = {}): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const hashes = tokens.map((t) => createHash('sha256').update(t).digest());
    const { rows } = await client.query<{ token_hash: Buffer; value: string }>(
      `SELECT s.token_hash, s.${column} AS value FROM sessions s JOIN identities i ON i.id = s.identity_id WHERE s.token_hash = ANY($1)${authenticating ? ` AND ${authenticatesSql('now()')}` : ''}`,
      [hashes],
    );
    const byHash = new Map(rows.map((row) => [row.token_hash.toString('hex'), row.value]));
    return new Map(tokens.flatMap((t, i) => {
      const value = byHash.get(hashes[i]!.toString('hex'));
      return value === undefined ? [] : [[t, value] as const];
    }));
  } finally {
    await client.end();
  }
}

/** One JSON request to a server on this machine, its answer parsed. */
export const post = async (port: number, path: string, body: unknown, headers: Record<string, string> = {}) =>
  (await (await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })).json()) as any;

/** Before measuring: ours, the raw-SQL baseline and PostGraphile list the same sessions and devices, in the same order. */
async function sameSecurityPages(ours: number, raw: number, peer: number, tokens: string[], identityOfToken: Map<string, string>): Promise<void> {
  const bare = (id: string) => id.slice(id.indexOf(':') + 1);
  for (const token of tokens) {
    const a = await post(ours, '/graphql', { query: securityPage }, { authorization: `Bearer ${token}` });
    const b = await post(raw, '/security', { token });
    const c = await post(peer, '/graphql', { query: peerSecurityPage, variables: { id: identityOfToken.get(token) } });
    const shape = {
      ours: a.data.viewer.identity.sessions.edges.map((e: any) => [bare(e.node.id), e.node.devices.map((d: any) => bare(d.id))]),
      raw: b.data.viewer.identity.sessions.map((s: any) => [s.id, s.devices.map((d: any) => d.id)]),
      peer: c.data.identityByRowId.sessionsByIdentityId.edges.map((e: any) => [e.node.rowId, e.node.devicesBySessionId.nodes.map((d: any) => d.rowId)]),
    };
    const [first, ...rest] = Object.values(shape).map((value) => JSON.stringify(value));
    if (rest.some((other) => other !== first)) throw new Error(`the three servers disagree on the security page: ${JSON.stringify(shape).slice(0, 600)}`);
  }
}

/** Before measuring nodes: the three answer the same rows for the same ids. */
async function sameNodes(ours: number, raw: number, peer: number, population: Population): Promise<void> {
  const rowIds = (ids: string[]) => [...new Set(ids)].sort();
  for (const offset of [0, 1, 2]) {
    const byType = mixedIds(population, offset);
    const ids = globalIds(byType);
    const a = await post(ours, '/graphql', { query: nodesQuery, variables: { ids } }, { authorization: admin });
    const b = await post(raw, '/nodes', { ids: byType });
    const c = await post(peer, '/graphql', { query: peerNodesQuery, variables: peerNodeIds(byType) });
    const shape = {
      ours: rowIds(a.data.nodes.map((n: any) => n.id.slice(n.id.indexOf(':') + 1))),
      raw: rowIds(b.data.nodes.map((n: any) => n.id)),
      peer: rowIds(Object.values(c.data).flatMap((list: any) => list.nodes.map((n: any) => n.rowId))),
    };
    const [first, ...rest] = Object.values(shape).map((value) => JSON.stringify(value));
    if (shape.ours.length !== new Set(ids).size || rest.some((other) => other !== first)) {
      throw new Error(`the three servers disagree on nodes: ${JSON.stringify(shape).slice(0, 600)}`);
    }
  }
}

// ---------------------------------------------------------------- database

export async function freshDatabase(): Promise<string> {
  const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  // BENCH_DATABASE_NAME: runs sharing one server need databases of their own.
  const name = process.env.BENCH_DATABASE_NAME ?? 'sessiongraph_bench';
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`BENCH_DATABASE_NAME must be a plain lower-case identifier, got ${JSON.stringify(name)}`);
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** SQL statements one request of each scenario costs, from the Prisma query log of an in-process app. */
async function statementsPerRequest(databaseUrl: string, population: Population, cursor: string) {
  const queries: string[] = [];
  const db = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize: 2, connectTimeoutMs: 5000 }, { onQuery: (sql) => queries.push(sql) });
  const config = loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: adminToken });
  const rateLimits = memoryStore();
  const app = createApp({ db, logger: createLogger('error', () => {}), config, rateLimits });
  const count = async (body: unknown, authorization = admin) => {
    queries.length = 0;
    const response = await app.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
    const text = await response.text();
    if (text.includes('"errors"')) throw new Error(`statement count request failed: ${text.slice(0, 300)}`);
    return queries.length;
  };
  const ids = mixedIds(population, 1);
  const reps = globalIds(ids).map((id) => ({ __typename: id.split(':')[0], id }));
  const result = {
    securityPage: await count({ query: securityPage }, `Bearer ${population.tokens[0]}`),
    activePage: await count({ query: activePage, variables: { after: cursor } }),
    nodes: await count({ query: nodesQuery, variables: { ids: globalIds(ids) } }),
    entities: await count({ query: entitiesQuery, variables: { reps } }),
  };
  await rateLimits.close();
  await db.close();
  return result;
}

// ---------------------------------------------------------------- the run

async function main() {
  const startedAt = performance.now();
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    plan,
  };

  log('building the server (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  // New embedded databases start from the template the install step builds; make sure it exists.
  await buildTemplate();

  log('seeding PostgreSQL');
  const databaseUrl = await freshDatabase();
  const seeding = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize, connectTimeoutMs: 5000 });
  await applyMigrations(seeding.adapterFactory);
  const population = await seed(seeding, { identities: plan.identities, revocations: plan.revocations });
  const deep = await deepActiveSession(seeding, population);
  await seeding.close();
  const cursor = encodeCursor(deep);
  results.population = { identities: population.identities, sessions: population.sessions, devices: population.devices, seedMs: population.seedMs };
  log(`seeded ${population.identities} identities, ${population.sessions} sessions, ${population.devices} devices in ${population.seedMs} ms`);

  const statements = await statementsPerRequest(databaseUrl, population, cursor);
  results.statementsPerRequest = statements;

  log('starting the server and the raw-SQL baseline');
  const server = await startServer({ DATABASE_URL: databaseUrl });
  const raw = await startChild(['--import', 'tsx', 'bench/raw-server.ts'], { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(poolSize) }, (line) => {
    try {
      return JSON.parse(line).port as number;
    } catch {
      return undefined;
    }
  });

  const peer = await startChild(['--import', 'tsx', 'bench/postgraphile-server.ts'], { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(poolSize), GRAPHILE_ENV: 'production' }, (line) => {
    try {
      return JSON.parse(line).port as number;
    } catch {
      return undefined;
    }
  });
  const token = (i: number) => population.tokens[i % population.tokens.length]!;
  const identityOfToken = await identitiesOfTokens(databaseUrl, population.tokens);
  const scenarios: Record<string, Scenario> = {};
  let readsEndSample: number | undefined;
  try {
    log('1. security page (session caller)');
    const security: LoadSpec = { port: server.port, pid: server.process.pid, path: '/graphql', body: (i) => ({ body: { query: securityPage }, headers: { authorization: `Bearer ${token(i)}` } }) };
    const securityOurs = await warmAndMeasure(security);
    const securityRaw = await warmAndMeasure({ port: raw.port, pid: raw.process.pid, path: '/security', body: (i) => ({ body: { token: token(i) } }) });
    const peerSpec: LoadSpec = { port: peer.port, pid: peer.process.pid, path: '/graphql', body: (i) => ({ body: { query: peerSecurityPage, variables: { id: identityOfToken.get(token(i)) } } }) };
    await sameSecurityPages(server.port, raw.port, peer.port, population.tokens.slice(0, 5), identityOfToken);
    const securityPeer = await warmAndMeasure(peerSpec);
    const at80 = await load({ ...security, overallRate: Math.max(1, Math.floor(securityOurs.requestsPerSecond * 0.8)) });
    scenarios.securityPage = { ours: securityOurs, raw: securityRaw, peer: securityPeer, p99At80PercentMs: at80.p99Ms };
    log('1b. vendor routes beside the same GraphQL reads (Kratos whoami, Clerk getSessionList)');
    results.vendorRoutes = await vendorScenarios(warmAndMeasure, { port: server.port, pid: server.process.pid }, population.tokens, identityOfToken);

    log('2. admin: a page of active sessions deep into the list');
    scenarios.activePage = {
      ours: await warmAndMeasure({ port: server.port, pid: server.process.pid, path: '/graphql', headers: { authorization: admin }, body: () => ({ body: { query: activePage, variables: { after: cursor } } }) }),
      raw: await warmAndMeasure({ port: raw.port, pid: raw.process.pid, path: '/sessions', body: () => ({ body: { cursor: { createdAt: deep.createdAt.toISOString(), id: deep.id } } }) }),
    };

    log('3. nodes(ids:) with 100 mixed ids');
    await sameNodes(server.port, raw.port, peer.port, population);
    scenarios.nodes = {
      ours: await warmAndMeasure({ port: server.port, pid: server.process.pid, path: '/graphql', headers: { authorization: admin }, body: (i) => ({ body: { query: nodesQuery, variables: { ids: globalIds(mixedIds(population, i)) } } }) }),
      raw: await warmAndMeasure({ port: raw.port, pid: raw.process.pid, path: '/nodes', body: (i) => ({ body: { ids: mixedIds(population, i) } }) }),
      peer: await warmAndMeasure({ port: peer.port, pid: peer.process.pid, path: '/graphql', body: (i) => ({ body: { query: peerNodesQuery, variables: peerNodeIds(mixedIds(population, i)) } }) }),
    };

    log('4. _entities with 100 representations');
    scenarios.entities = {
      ours: await warmAndMeasure({
        port: server.port,
        pid: server.process.pid,
        path: '/graphql',
        headers: { authorization: admin },
        body: (i) => ({ body: { query: entitiesQuery, variables: { reps: globalIds(mixedIds(population, i)).map((gid) => ({ __typename: gid.split(':')[0], id: gid })) } } }),
      }),
    };

    log('4b. security page as a session JWT: revocation set empty vs full, in turns');
    Object.assign(scenarios, await revocationSetScenarios({ databaseUrl, population, startServer, measure: warmAndMeasure, rounds: quick ? 2 : 3, log }));

    // The memory the reads took, apart from the writes' (Prisma and the signature checks) after them.
    readsEndSample = server.rss.length;
    log('5. revocation: revokeSession, then confirmRevocation with signatures made in between');
    const challenges: { requestId: string; payloadToSign: string; secretKey: Uint8Array }[] = [];
    const byTarget = new Map(population.revocations.map((r) => [`Session:${r.targetSessionId}`, r.signerSecretKey]));
    const targets = [...byTarget.keys()];
    const revoke = await load({
      port: server.port,
      pid: server.process.pid,
      path: '/graphql',
      headers: { authorization: admin },
      amount: targets.length,
      durationS: undefined,
      body: (i) => (i < targets.length ? { body: { query: revokeMutation, variables: { id: targets[i] } } } : undefined),
      onBody: (body) => {
        const challenge = JSON.parse(body).data?.revokeSession?.challenge;
        if (!challenge) return;
        const payload = JSON.parse(Buffer.from(challenge.payloadToSign, 'base64').toString());
        challenges.push({ ...challenge, secretKey: byTarget.get(payload.targetId)! });
      },
    });
    const signed = challenges.map((c) => ({
      requestId: c.requestId,
      signature: Buffer.from(p256.sign(Buffer.from(c.payloadToSign, 'base64'), c.secretKey, { lowS: false })).toString('base64'),
    }));
    // Event writers of different identities: pg_locks is sampled for waits on a shared lock.
    const { result: confirm, lockWaits } = await withLockWaits(databaseUrl, () => load({
      port: server.port,
      pid: server.process.pid,
      path: '/graphql',
      headers: { authorization: admin },
      amount: signed.length,
      durationS: undefined,
      body: (i) => (i < signed.length ? { body: { query: confirmMutation, variables: { r: signed[i]!.requestId, s: signed[i]!.signature } } } : undefined),
    }));
    results.lockWaits = { confirmRevocation: lockWaits };
    scenarios.revokeSession = { ours: revoke };
    scenarios.confirmRevocation = { ours: confirm };
  } finally {
    await peer.stop();
    await raw.stop();
    await server.stop();
  }
  const rss = server.rss;
  const third = Math.max(1, Math.floor(rss.length / 3));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  results.serverMemory = {
    peakRssMB: Math.round(Math.max(...rss) / 2 ** 20),
    readsPeakRssMB: Math.round(Math.max(...rss.slice(0, readsEndSample ?? rss.length)) / 2 ** 20),
    firstThirdMeanMB: Math.round(mean(rss.slice(0, third)) / 2 ** 20),
    lastThirdMeanMB: Math.round(mean(rss.slice(-third)) / 2 ** 20),
  };

  log('webhooks: what delivery adds to a revocation (bench/webhooks.ts)');
  const webhooks = await webhookBench({ databaseUrl, startServer, cpuMsOf, postgresCpu, postgresCpuSince, log, quick });
  results.webhooks = webhooks;

  log('6. security page on the embedded PGlite database');
  const dataDir = mkdtempSync(join(tmpdir(), 'sessiongraph-bench-'));
  try {
    const embedded = await openDatabase({ kind: 'pglite', dataDir });
    await applyMigrations(embedded.adapterFactory);
    const small = await seed(embedded, { identities: plan.pgliteIdentities, revocations: 0, seed: 7 });
    await embedded.close();
    const pgliteServer = await startServer({ DATA_DIR: dataDir });
    try {
      scenarios.securityPagePglite = {
        ours: await warmAndMeasure({
          port: pgliteServer.port,
          pid: pgliteServer.process.pid,
          path: '/graphql',
          body: (i) => ({ body: { query: securityPage }, headers: { authorization: `Bearer ${small.tokens[i % small.tokens.length]}` } }),
        }),
      };
    } finally {
      await pgliteServer.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }

  log('cold start on an empty embedded database (median of 3)');
  // The first answer needs only the schema; the first data answer waits for the database too.
  const colds: { first: number; data: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const coldDir = mkdtempSync(join(tmpdir(), 'sessiongraph-cold-'));
    try {
      const started = performance.now();
      const cold = await startColdServer({ DATA_DIR: coldDir });
      const answer = async (body: string, headers: Record<string, string> = {}) =>
        (await fetch(`http://127.0.0.1:${cold.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })).text();
      await answer('{"query":"{ __typename }"}');
      const first = performance.now() - started;
      await answer('{"query":"{ sessions(first: 1) { totalCount } }"}', { authorization: `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}` });
      colds.push({ first, data: performance.now() - started });
      await cold.stop();
    } finally {
      rmSync(coldDir, { recursive: true, force: true });
    }
  }
  const median = (values: number[]) => Math.round(values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!);
  results.coldStartMs = median(colds.map((c) => c.first));
  results.coldStartDataMs = median(colds.map((c) => c.data));
  log('npm start as a user runs it');
  results.npmStart = await measureNpmStart(adminToken, quick ? 1 : 3);

  // The writes (bench/writes.ts): logins, token mints, activity and signed revocations, against
  // PostGraphile. Several minutes more: a quick run leaves them out unless asked (`--writes`).
  const writes = quick && !process.argv.includes('--writes') ? undefined : await (await import('./writes.js')).writeScenarios(databaseUrl, population);
  if (writes) results.writes = writes.results;
  log('embedded server memory through the demo data\'s first page');
  results.embeddedMemory = await embeddedMemory(startServer, adminToken, root);
  log('import on the embedded database, and reads meanwhile');
  results.import = await importFigures(startServer, adminToken, root, quick ? { cliSessions: 1000, mutationSessions: 1000 } : { cliSessions: 20_000, mutationSessions: 3000 });

  results.scenarios = scenarios;
  results.totalSeconds = Math.round((performance.now() - startedAt) / 1000);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(table(results, scenarios, statements) + (writes?.table ?? '') + webhookBenchLine(webhooks));
}

interface Scenario {
  ours: Measured;
  /** The same reads as hand-written SQL. */
  raw?: Measured;
  /** The same page from PostGraphile 5. */
  peer?: Measured;
  p99At80PercentMs?: number;
}

function table(results: Record<string, unknown>, scenarios: Record<string, Scenario>, statements: Record<string, number>): string {
  const sql: Record<string, string> = {
    securityPage: String(statements.securityPage),
    activePage: String(statements.activePage),
    nodes: String(statements.nodes),
    entities: String(statements.entities),
  };
  const ms = (value: number | undefined) => (value === undefined ? '' : value.toFixed(2));
  const rows = Object.entries(scenarios).map(([name, s]) =>
    `| ${name} | ${s.ours.requestsPerSecond} | ${ms(s.ours.cpuMsPerRequest)} | ${ms(s.ours.postgresCpuMsPerRequest)} | ${s.ours.p50Ms.toFixed(2)} | ${s.ours.p99Ms.toFixed(2)} | ${s.ours.errors} | ${sql[name] ?? ''} | ${s.raw?.requestsPerSecond ?? ''} | ${ms(s.raw?.cpuMsPerRequest)} | ${ms(s.raw?.postgresCpuMsPerRequest)} | ${s.raw ? (s.ours.requestsPerSecond / s.raw.requestsPerSecond).toFixed(2) : ''} | ${s.peer?.requestsPerSecond ?? ''} | ${ms(s.peer?.cpuMsPerRequest)} | ${ms(s.peer?.postgresCpuMsPerRequest)} |`,
  );
  const memory = results.serverMemory as Record<string, number>;
  return [
    `## sessiongraph benchmark (${results.mode}, ${(results.machine as { cpus: number }).cpus} cores, ${(results.population as { sessions: number }).sessions} sessions)`,
    '',
    '| scenario | req/s | CPU ms/req | PostgreSQL CPU ms/req | p50 ms | p99 ms | errors | SQL/request | raw SQL req/s | raw CPU ms/req | raw PostgreSQL CPU ms/req | ratio (req/s) | PostGraphile req/s | PostGraphile CPU ms/req | PostGraphile PostgreSQL CPU ms/req |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `- security page p99 at 80 % of its maximum rate: ${scenarios.securityPage?.p99At80PercentMs?.toFixed(2)} ms`,
    `- vendor routes beside the same GraphQL reads (CPU ms/req, route / GraphQL): ${JSON.stringify(results.vendorRoutes, (key, value) => (key === 'runs' ? undefined : value))}`,
    `- server RSS: peak ${memory.peakRssMB} MB, ${memory.readsPeakRssMB} MB over the reads (scenarios 1–4) (first third ${memory.firstThirdMeanMB} MB, last third ${memory.lastThirdMeanMB} MB)`,
    `- cold start on an empty PGlite directory (median of 3): first answer ${results.coldStartMs} ms, first data answer ${results.coldStartDataMs} ms`,
    ...Object.entries((results.lockWaits ?? {}) as Record<string, LockWaits>).map(
      ([name, w]) => `- ${name}: of ${w.samples} pg_locks samples, ${w.advisory} saw a writer waiting for an advisory lock, ${w.notify} for the NOTIFY lock, ${w.transaction} for a row, ${w.other} for another lock`,
    ),
    describeNpmStart(results.npmStart as NpmStartResults),
    embeddedMemoryLine(results.embeddedMemory as Parameters<typeof embeddedMemoryLine>[0]),
    importLine(results.import as ImportFigures),
    `- seeding: ${(results.population as { seedMs: number }).seedMs} ms; whole run ${results.totalSeconds} s`,
    '',
  ].join('\n');
}

// Run as the entry point only: bench/writes.ts borrows its harness.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
