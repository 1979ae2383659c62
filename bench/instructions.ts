// What each planned read costs PostgreSQL, counted in instructions rather than timed: on shared
// cores CPU time per statement moves by a third from one round to the next, an instruction count
// by callgrind does not move at all. `npm run bench:instructions` (needs valgrind and PostgreSQL's
// server binaries; about a minute):
//
//   1. starts a throwaway PostgreSQL cluster in a temporary directory, seeds it as `npm run bench`
//      does (10,000 identities), and captures the statement the planner sends for one request of
//      each read scenario, with its parameters, through the real HTTP handler;
//   2. stops it and runs each statement prepared (generic plan, as the server runs it) in
//      PostgreSQL's single-user mode under callgrind, 5 and then 25 times; the difference over 20
//      is one execution's instructions, without start-up. A statement that fails stops the run.
//
// Compare a change against its parent by running this on both; `--json <file>` writes the counts;
// `--quick` (500 identities, 1 and 3 executions) is the smoke run the test suite makes.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { applyMigrations } from '../src/db/migrations.js';
import { createLogger } from '../src/logger.js';
import { memoryStore } from '../src/rate-limit.js';
import { plannedReadMark } from '../src/planner/reads.js';
import { encodeCursor } from '../src/schema/pagination.js';
import { createApp } from '../src/server.js';
import { activePage, admin, adminToken, deepActiveSession, entitiesQuery, globalIds, mixedIds, nodesQuery, securityPage } from './scenarios.js';
import { seed } from './seed.js';

const quick = process.argv.includes('--quick');
const plan = quick ? { identities: 500, few: 1, many: 3 } : { identities: 10_000, few: 5, many: 25 };
const log = (message: string) => process.stderr.write(`bench:instructions: ${message}\n`);
const fail = (message: string): never => {
  process.stderr.write(`bench:instructions: ${message}\n`);
  process.exit(1);
};

function serverBinaries(): string {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const candidates = [
    ...(fromConfig.status === 0 ? [fromConfig.stdout.trim()] : []),
    ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin`) : []),
  ];
  const dir = candidates.find((candidate) => existsSync(join(candidate, 'postgres')) && existsSync(join(candidate, 'initdb')));
  return dir ?? fail('PostgreSQL server binaries (initdb, postgres) not found: install the server package, or put pg_config on PATH');
}

if (spawnSync('valgrind', ['--version']).status !== 0) fail('valgrind not found: install it (Debian: apt-get install valgrind)');
const bin = serverBinaries();
// PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
const asRoot = process.getuid?.() === 0;
// runuser lives in sbin, which a plain user's PATH (and CI's) may not name.
const runuser = asRoot ? (['/usr/sbin/runuser', '/sbin/runuser'].find((path) => existsSync(path)) ?? fail('running as root needs runuser (util-linux) to run PostgreSQL as postgres')) : '';
const run = (command: string, args: string[], input?: string) => {
  const [file, argv] = asRoot ? [runuser, ['-u', 'postgres', '--', command, ...args]] : [command, args];
  const result = spawnSync(file, argv, { input, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  return result;
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Captured {
  scenario: string;
  sql: string;
  params: unknown[];
}

/** Seeds a cluster on `port` and returns each read scenario's planned statement. */
async function capture(port: number): Promise<Captured[]> {
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const seeding = await openDatabase({ kind: 'postgres', url, poolSize: 4, connectTimeoutMs: 10_000 });
  await applyMigrations(seeding.adapterFactory);
  log(`seeding ${plan.identities} identities`);
  const population = await seed(seeding, { identities: plan.identities, revocations: 0 });
  await seeding.prisma.$executeRawUnsafe('VACUUM ANALYZE');
  const cursor = encodeCursor(await deepActiveSession(seeding, population));
  await seeding.close();

  let statements: { sql: string; params: readonly unknown[] }[] = [];
  const db = await openDatabase({ kind: 'postgres', url, poolSize: 2, connectTimeoutMs: 10_000 }, { onQuery: (sql, params) => void statements.push({ sql, params: params ?? [] }) });
  const app = createApp({ db, logger: createLogger('error', () => {}), config: loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: adminToken }), rateLimits: memoryStore() });
  const ids = mixedIds(population, 1);
  const scenarios: [string, unknown, string][] = [
    ['securityPage', { query: securityPage }, `Bearer ${population.tokens[0]}`],
    ['activePage', { query: activePage, variables: { after: cursor } }, admin],
    ['nodes', { query: nodesQuery, variables: { ids: globalIds(ids) } }, admin],
    ['entities', { query: entitiesQuery, variables: { reps: globalIds(ids).map((id) => ({ __typename: id.split(':')[0], id })) } }, admin],
  ];
  const captured: Captured[] = [];
  for (const [scenario, body, authorization] of scenarios) {
    statements = [];
    const response = await app.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
    const text = await response.text();
    if (text.includes('"errors"')) fail(`${scenario} failed: ${text.slice(0, 300)}`);
    const planned = statements.filter((statement) => statement.sql.startsWith(plannedReadMark));
    if (planned.length !== 1) fail(`${scenario} sent ${planned.length} planned statements, not one`);
    captured.push({ scenario, sql: planned[0]!.sql, params: [...planned[0]!.params] });
  }
  await db.close();
  return captured;
}

const literal = (value: unknown) => {
  if (value instanceof Uint8Array) return `'\\x${Buffer.from(value).toString('hex')}'`;
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `'${text.replaceAll("'", "''")}'`;
};

/** Instructions callgrind counts for single-user PostgreSQL running the statement `times` times. */
function instructions(dataDir: string, statement: Captured, times: number, work: string): number {
  // length(): single-user mode prints every result with printf; the text's length keeps that out.
  const lines = [
    'SET plan_cache_mode = force_generic_plan',
    `PREPARE q AS SELECT length(x.data) FROM (${statement.sql.replaceAll('\n', ' ')}) x`,
    ...Array.from({ length: times }, () => `EXECUTE q(${statement.params.map(literal).join(', ')})`),
  ];
  const out = join(work, `callgrind.${statement.scenario}.${times}`);
  const result = run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, join(bin, 'postgres'), '--single', '-D', dataDir, 'postgres'], `${lines.join('\n')}\n`);
  const count = /Collected : (\d+)/.exec(result.stderr)?.[1];
  if (!count) fail(`callgrind failed for ${statement.scenario}: ${result.stderr.slice(-1000)}`);
  if (/ERROR:/.test(result.stdout)) fail(`${statement.scenario}: ${result.stdout.slice(0, 1000)}`);
  return Number(count);
}

async function main() {
  const jsonIndex = process.argv.indexOf('--json');
  const work = mkdtempSync(join(tmpdir(), 'sessiongraph-instructions-'));
  chmodSync(work, 0o777);
  const dataDir = join(work, 'data');
  try {
    const init = run(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    if (init.status !== 0) fail(`initdb failed: ${init.stderr}`);
    const port = await freePort();
    const start = run(join(bin, 'pg_ctl'), ['-D', dataDir, '-o', `-p ${port} -k ${work} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(work, 'log'), '-w', 'start']);
    if (start.status !== 0) fail(`PostgreSQL did not start: ${start.stderr}`);
    let captured: Captured[];
    try {
      captured = await capture(port);
    } finally {
      run(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    }
    const counts: Record<string, number> = {};
    for (const statement of captured) {
      log(`counting ${statement.scenario}`);
      counts[statement.scenario] = Math.round((instructions(dataDir, statement, plan.many, work) - instructions(dataDir, statement, plan.few, work)) / (plan.many - plan.few));
    }
    console.log('| scenario | PostgreSQL instructions per execution (thousands) |\n| --- | ---: |');
    for (const [scenario, count] of Object.entries(counts)) console.log(`| ${scenario} | ${(count / 1000).toFixed(1)} |`);
    if (jsonIndex > 0) writeFileSync(process.argv[jsonIndex + 1]!, `${JSON.stringify(counts, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
