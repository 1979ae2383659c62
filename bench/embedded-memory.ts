// The embedded server's memory, as a new user meets it: `npm start` on an empty data directory, and
// again on one `npm run demo` loaded, each from start through the demo data's first page (VmHWM,
// the peak resident memory, read from /proc once the page has answered), at rest a few seconds
// later (VmRSS), and after a run of the same page. Linux only (/proc).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Started {
  process: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** The README's first example: a page of identities with their latest sessions and devices. */
const firstPage = `{
  identities(first: 10) {
    totalCount
    edges { node { id traits sessions(first: 5) { edges { node { id status devices { userAgent } } } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export interface EmbeddedMemory {
  /** Peak resident memory from start through the first page, MB. */
  peakMB: number;
  /** Resident memory at rest, 3 s after the first page, MB. */
  restMB: number;
  /** Peak after 200 more requests for the page, MB. */
  peakAfterLoadMB: number;
  /** Identities the first page counted. */
  identities: number;
}

function statusMB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024);
}

async function measure(start: (env: Record<string, string>) => Promise<Started>, dataDir: string, authorization: string): Promise<EmbeddedMemory> {
  const server = await start({ DATA_DIR: dataDir, DATABASE_URL: '' });
  try {
    const page = async () => {
      const response = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: firstPage }),
      });
      const body = (await response.json()) as { data?: { identities: { totalCount: number } }; errors?: unknown };
      if (!body.data) throw new Error(`embedded memory: the first page failed: ${JSON.stringify(body.errors)}`);
      return body.data.identities.totalCount;
    };
    const identities = await page();
    const pid = server.process.pid!;
    const peakMB = statusMB(pid, 'VmHWM');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const restMB = statusMB(pid, 'VmRSS');
    for (let i = 0; i < 200; i++) await page();
    return { peakMB, restMB, peakAfterLoadMB: statusMB(pid, 'VmHWM'), identities };
  } finally {
    await server.stop();
  }
}

/**
 * `start` starts the server as `npm start` does with these variables (and an ADMIN_TOKEN) and
 * resolves when it is ready; `root` is the project, where `npm run demo` runs.
 */
export async function embeddedMemory(
  start: (env: Record<string, string>) => Promise<Started>,
  adminToken: string,
  root: string,
): Promise<{ fresh: EmbeddedMemory; demo: EmbeddedMemory }> {
  const authorization = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'sessiongraph-memory-'));
  try {
    const fresh = await measure(start, dataDir, authorization);
    execFileSync('npm', ['run', '--silent', 'demo'], { cwd: root, env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' }, stdio: 'ignore' });
    const demo = await measure(start, dataDir, authorization);
    return { fresh, demo };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function embeddedMemoryLine({ fresh, demo }: { fresh: EmbeddedMemory; demo: EmbeddedMemory }): string {
  return (
    `- embedded server memory (VmHWM through the first page / VmRSS at rest / VmHWM after 200 pages): ` +
    `empty directory ${fresh.peakMB} / ${fresh.restMB} / ${fresh.peakAfterLoadMB} MB, ` +
    `demo data (${demo.identities} identities) ${demo.peakMB} / ${demo.restMB} / ${demo.peakAfterLoadMB} MB`
  );
}
