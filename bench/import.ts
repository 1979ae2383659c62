// The importer on the embedded database: how long `npm run import` takes for a large Kratos export,
// and how long authenticated reads wait while `importSessions` writes one into a running server.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Started {
  process: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const uuid = (kind: number, n: number) => `${hex(kind, 8)}-0000-4000-8000-${hex(n, 12)}`;

/**
 * A Kratos sessions export as Kratos writes it: `sessions` sessions of `sessions / 2` identities,
 * each identity with two credentials and its addresses, each session with a device and two
 * authentication methods.
 */
export function kratosExport(sessions: number): unknown[] {
  return Array.from({ length: sessions }, (_, i) => {
    const person = Math.floor(i / 2);
    const email = `person${person}@example.com`;
    return {
      id: uuid(1, i),
      active: i % 5 !== 0,
      authenticated_at: '2026-11-20T09:00:00Z',
      issued_at: '2026-11-20T09:00:00Z',
      expires_at: '2099-11-23T09:00:00Z',
      authenticator_assurance_level: 'aal2',
      authentication_methods: [
        { method: 'password', aal: 'aal1', completed_at: '2026-11-20T09:00:00Z' },
        { method: 'webauthn', aal: 'aal2', completed_at: '2026-11-20T09:00:30Z' },
      ],
      devices: [{ id: uuid(2, i), ip_address: `203.0.113.${i % 250}`, location: 'London, GB', user_agent: `Mozilla/5.0 (bench ${i % 40}) Safari/17.5` }],
      identity: {
        id: uuid(3, person),
        schema_id: 'customer',
        state: 'active',
        traits: { email, name: { first: 'Person', last: String(person) } },
        metadata_public: { plan: 'team' },
        created_at: '2026-01-10T08:00:00Z',
        updated_at: '2026-03-02T12:30:00Z',
        credentials: {
          password: { type: 'password', identifiers: [email], config: { hashed_password: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA' }, version: 0 },
          oidc: { type: 'oidc', identifiers: [`google:${person}`], config: { providers: [{ provider: 'google', subject: String(person) }] }, version: 0 },
        },
        verifiable_addresses: [{ id: uuid(4, person), value: email, verified: true, via: 'email', status: 'completed', verified_at: '2026-01-10T08:05:00Z' }],
        recovery_addresses: [{ id: uuid(5, person), value: email, via: 'email' }],
      },
    };
  });
}

export interface ImportFigures {
  /** `npm run import` of `cliSessions` sessions into a new embedded database, wall time, ms. */
  cliMs: number;
  cliSessions: number;
  /** importSessions of `mutationSessions` sessions on a running embedded server, ms. */
  mutationMs: number;
  mutationSessions: number;
  /** The slowest authenticated read that was answered while that import ran, ms. */
  worstReadMs: number;
  /** Reads answered meanwhile. */
  reads: number;
}

/** `start` starts the server with these variables (and an ADMIN_TOKEN) and resolves when it is ready. */
export async function importFigures(
  start: (env: Record<string, string>) => Promise<Started>,
  adminToken: string,
  root: string,
  sizes: { cliSessions: number; mutationSessions: number },
): Promise<ImportFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sessiongraph-import-'));
  try {
    const file = join(dir, 'kratos.json');
    writeFileSync(file, JSON.stringify(kratosExport(sizes.cliSessions)));
    const cliStarted = performance.now();
    execFileSync('npm', ['run', '--silent', 'import', '--', '--from', 'kratos', file], {
      cwd: root,
      env: { ...process.env, DATA_DIR: join(dir, 'cli'), DATABASE_URL: '' },
      stdio: 'ignore',
    });
    const cliMs = performance.now() - cliStarted;

    const server = await start({ DATA_DIR: join(dir, 'server'), DATABASE_URL: '', MAX_REQUEST_BODY_BYTES: String(256 * 2 ** 20) });
    try {
      const authorization = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;
      const graphql = async (query: string, variables?: unknown) => {
        const response = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await response.json()) as { data?: unknown; errors?: unknown };
        if (body.errors) throw new Error(`import bench: ${JSON.stringify(body.errors).slice(0, 300)}`);
        return body.data;
      };
      const read = '{ sessions(first: 10) { totalCount edges { node { id status identity { id } } } } }';
      await graphql(read);
      let importing = true;
      let worstReadMs = 0;
      let reads = 0;
      const reader = (async () => {
        while (importing) {
          // Every read sent while the import runs counts, the one still waiting when it ends too.
          const sent = performance.now();
          await graphql(read);
          worstReadMs = Math.max(worstReadMs, performance.now() - sent);
          reads++;
        }
      })();
      const mutationStarted = performance.now();
      await graphql('mutation ($d: JSON!) { importSessions(input: { from: KRATOS, document: $d }) { sessionsCreated } }', { d: kratosExport(sizes.mutationSessions) });
      const mutationMs = performance.now() - mutationStarted;
      importing = false;
      await reader;
      return { cliMs: Math.round(cliMs), cliSessions: sizes.cliSessions, mutationMs: Math.round(mutationMs), mutationSessions: sizes.mutationSessions, worstReadMs: Math.round(worstReadMs), reads };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function importLine(f: ImportFigures): string {
  return (
    `- import on the embedded database: npm run import of ${f.cliSessions} Kratos sessions ${f.cliMs} ms; ` +
    `importSessions of ${f.mutationSessions} on a running server ${f.mutationMs} ms, the slowest of ${f.reads} reads meanwhile ${f.worstReadMs} ms`
  );
}

// `npm run bench:import [-- --runs N]`: the import figures alone, on the compiled server (npm run build first).
// No top-level await: run.ts imports this module, which must have finished loading first.
async function main(): Promise<void> {
  const { root, startServer } = await import('./run.js');
  const { adminToken } = await import('./scenarios.js');
  const runsIndex = process.argv.indexOf('--runs');
  const runs = runsIndex > 0 ? Number(process.argv[runsIndex + 1]) : 3;
  for (let run = 0; run < runs; run++) {
    const figures = await importFigures(startServer, adminToken, root, { cliSessions: 20_000, mutationSessions: 3000 });
    process.stdout.write(`${importLine(figures)} (load average ${loadavg()[0]!.toFixed(1)})\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
