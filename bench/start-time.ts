// How long `npm start` takes, the way a user runs it: `npm start` itself (npm included) on an empty
// embedded data directory, timed from the spawn to the first answer of /healthz and to the first
// answer of an authenticated data query, then once more on the directory the first start left
// (a restart). The CPU time the process tree spent by then is reported beside the wall-clock times:
// on shared cores it moves far less than they do. npm run bench reports it; alone:
// `npm run bench:start [-- --runs N]`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const clockTicksPerSecond = 100; // USER_HZ, 100 on every Linux Node supports

export interface StartTiming {
  /** From spawning `npm start` to the answer of GET /healthz. */
  firstAnswerMs: number;
  /** To the answer of an admin's `{ sessions(first: 1) { totalCount } }`. */
  firstDataMs: number;
  /** User + system CPU of npm and the server by then (Linux; undefined elsewhere). */
  cpuMs?: number;
}

export interface NpmStartResults {
  /** Median of the runs on a new, empty data directory. */
  empty: StartTiming;
  /** Median of the runs on a directory a previous start created. */
  restart: StartTiming;
  runs: number;
}

/** The processes below `pid` (Linux), deepest last. */
function descendants(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return children.flatMap((child) => [child, ...descendants(child)]);
  } catch {
    return [];
  }
}

/** CPU time of a process and its descendants still running, from /proc. */
function treeCpuMs(pid: number): number | undefined {
  try {
    const [utime, stime] = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ').slice(11, 13).map(Number);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    let ms = ((utime! + stime!) / clockTicksPerSecond) * 1000;
    for (const child of children) ms += treeCpuMs(child) ?? 0;
    return ms;
  } catch {
    return undefined;
  }
}

async function timeOneStart(dataDir: string, adminToken: string): Promise<StartTiming> {
  // A user's environment: no database URL, no settings of ours but the directory, port and token.
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN: adminToken };
  for (const name of ['DATABASE_URL', 'NODE_ENV', 'LOG_LEVEL', 'MALLOC_MMAP_THRESHOLD_']) delete env[name];
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    // PORT=0: the port is in the first log line, written when the server listens.
    const port = await new Promise<number>((resolvePort, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const listening = /"msg":"sessiongraph listening","url":"http:\/\/[^:]+:(\d+)/.exec(buffered);
        if (listening) resolvePort(Number(listening[1]));
      });
      void exited.then(() => reject(new Error(`npm start exited before listening: ${stderr}`)));
    });
    child.stdout.resume();
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    await health.text();
    const firstAnswerMs = performance.now() - started;
    const data = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}` },
      body: JSON.stringify({ query: '{ sessions(first: 1) { totalCount } }' }),
    });
    const body = (await data.json()) as { errors?: unknown[] };
    if (!health.ok || body.errors) throw new Error(`npm start answered ${health.status} / ${JSON.stringify(body)}`);
    return { firstAnswerMs, firstDataMs: performance.now() - started, cpuMs: treeCpuMs(child.pid!) };
  } finally {
    // npm passes the signal on, and may exit before the server has closed its database: wait for
    // the server too, or the next start would find the directory in use.
    const below = descendants(child.pid!);
    child.kill('SIGTERM');
    await exited;
    while (below.some((pid) => existsSync(`/proc/${pid}`))) await new Promise((wait) => setTimeout(wait, 20));
  }
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const medianTiming = (timings: StartTiming[]): StartTiming => ({
  firstAnswerMs: Math.round(median(timings.map((t) => t.firstAnswerMs))),
  firstDataMs: Math.round(median(timings.map((t) => t.firstDataMs))),
  cpuMs: timings.every((t) => t.cpuMs !== undefined) ? Math.round(median(timings.map((t) => t.cpuMs!))) : undefined,
});

/** Times `npm start` `runs` times on an empty directory, each followed by a restart on it. */
export async function measureNpmStart(adminToken: string, runs = 3): Promise<NpmStartResults> {
  const empty: StartTiming[] = [];
  const restart: StartTiming[] = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'sessiongraph-start-'));
    try {
      empty.push(await timeOneStart(dataDir, adminToken));
      restart.push(await timeOneStart(dataDir, adminToken));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return { empty: medianTiming(empty), restart: medianTiming(restart), runs };
}

export function describeNpmStart(results: NpmStartResults): string {
  const line = (t: StartTiming) => `first answer ${t.firstAnswerMs} ms, first data answer ${t.firstDataMs} ms${t.cpuMs === undefined ? '' : ` (${t.cpuMs} ms of CPU)`}`;
  return `- npm start (median of ${results.runs}): empty embedded directory: ${line(results.empty)}; restart: ${line(results.restart)}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const runsIndex = process.argv.indexOf('--runs');
  const runs = runsIndex > 0 ? Number(process.argv[runsIndex + 1]) : 5;
  const results = await measureNpmStart('bench-start-admin-token-0123456789abcdef', runs);
  process.stdout.write(`${describeNpmStart(results)}\n${JSON.stringify(results)}\n`);
}
