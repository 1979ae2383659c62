import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { readMigrationHistory } from '../src/db/migrations.js';
import { cleanEnv, projectRoot, runToEnd, serverEntry, serverEnv, startServer } from './support/process.js';
import { temporaryDirectories } from './support/temp-dirs.js';

const tempDir = temporaryDirectories('main');

async function graphql(url: string, query: string, variables?: Record<string, unknown>, authorization?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return response.json() as Promise<{ data?: Record<string, unknown>; errors?: unknown[] }>;
}

describe('npm start with bad configuration', () => {
  it('DATABASE_URL=nonsense exits 1 within seconds with one line naming DATABASE_URL', async () => {
    const result = await runToEnd('npm', ['start', '--silent'], { DATABASE_URL: 'nonsense', PORT: '0', HOST: '127.0.0.1' });
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(15_000);
    const lines = result.stderr.split('\n').filter((line) => line && !line.startsWith('npm warn'));
    expect(lines).toEqual([expect.stringMatching(/^sessiongraph: DATABASE_URL: is not a URL/)]);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it.each([
    [{ PORT: 'abc' }, /^sessiongraph: PORT: expected a whole number from 0 to 65535, got "abc"$/],
    [
      // The refusal comes at once; a short timeout would fire first when a loaded machine keeps the
      // event loop busy (building the schema) past it.
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/sessiongraph', DATABASE_CONNECT_TIMEOUT_MS: '60000' },
      /^sessiongraph: DATABASE_URL: cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/sessiongraph: connection refused/,
    ],
    [{ DATA_DIR: '/dev/null/sessiongraph' }, /^sessiongraph: DATA_DIR: data directory \/dev\/null\/sessiongraph cannot be created or written/],
  ])('%j exits 1 with one line naming the variable', async (env, message) => {
    // The server listens while its database opens: on a port of its own, never 4000, which a
    // server the user started may hold.
    const result = await runToEnd(process.execPath, serverEntry, { ...serverEnv, PORT: '0', HOST: '127.0.0.1', ...env });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  });
});

describe('npm start under a supervisor', () => {
  it('passes SIGTERM sent to npm on to the server, which stops cleanly and leaves no process behind', async () => {
    const dataDir = await tempDir();
    const npm = spawn('npm', ['start', '--silent'], { cwd: projectRoot, env: cleanEnv({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }) });
    let output = '';
    npm.stdout.on('data', (chunk) => (output += chunk));
    const npmExited = new Promise((resolve) => npm.once('exit', resolve));
    const lock = join(dataDir, 'sessiongraph.lock');
    let serverPid: number | undefined;
    try {
      await expect.poll(() => output.includes('"sessiongraph ready"'), { timeout: 90_000 }).toBe(true);
      serverPid = Number.parseInt(await readFile(lock, 'utf8'), 10);
      npm.kill('SIGTERM');
      await npmExited;
      // The server is gone too (not orphaned, still holding the directory) and it stopped gracefully.
      await expect.poll(() => existsSync(`/proc/${serverPid}`) || existsSync(lock), { timeout: 15_000 }).toBe(false);
      expect(output).toContain('"msg":"stopped"');
    } finally {
      if (npm.exitCode === null) npm.kill('SIGTERM'); // passed on to the server (exec)
      if (serverPid && existsSync(`/proc/${serverPid}`)) process.kill(serverPid, 'SIGKILL');
    }
  }, 120_000);
});

describe('the embedded server process', () => {
  it.runIf(process.platform === 'linux')("runs with glibc mapping V8's compiler blocks singly, and keeps a value already set", async () => {
    const threshold = async (pid: number) =>
      (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').find((entry) => entry.startsWith('MALLOC_MMAP_THRESHOLD_='));
    // npm start sets it, so the process starts with it and is not re-executed.
    expect(serverEnv.MALLOC_MMAP_THRESHOLD_).toBe('32768');
    // Started without it (node dist/bundle/main.js by hand), the server re-executes itself in place with it: the process the caller started is the server, and it serves.
    const started = await startServer({ DATA_DIR: await tempDir(), MALLOC_MMAP_THRESHOLD_: '' });
    try {
      expect(await threshold(started.child.pid!)).toBe('MALLOC_MMAP_THRESHOLD_=32768');
      expect(await graphql(started.url, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    } finally {
      await started.stop();
    }
    const given = await startServer({ DATA_DIR: await tempDir(), MALLOC_MMAP_THRESHOLD_: '65536' });
    try {
      expect(await threshold(given.child.pid!)).toBe('MALLOC_MMAP_THRESHOLD_=65536');
    } finally {
      await given.stop();
    }
  });

  it('asked to stop while it starts, stops cleanly once started; asked twice, ends at once, and the directory opens again', async () => {
    const dataDir = await tempDir();
    /** Starts the server and sends SIGTERM `signals` times from the moment it listens (its modules and database still loading). */
    const stopWhileStarting = async (signals: number) => {
      const child = spawn(process.execPath, serverEntry, { cwd: projectRoot, env: cleanEnv({ ...serverEnv, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }) });
      const messages: string[] = [];
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = (buffered += chunk.toString()).split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const { msg } = JSON.parse(line) as { msg: string };
          if (/^(sessiongraph listening|sessiongraph ready|stopp|shutting down)/.test(msg)) messages.push(msg);
          // The second signal once the first is taken in (two at once may arrive as one).
          if (msg === 'sessiongraph listening' || (msg === 'stopping once started' && signals > 1)) child.kill('SIGTERM');
        }
      });
      const code = await new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
      return { code, messages };
    };

    const once = await stopWhileStarting(1);
    expect(once.code).toBe(0);
    expect(once.messages).toEqual(['sessiongraph listening', 'stopping once started', 'sessiongraph ready', 'shutting down', 'stopped']);
    expect(existsSync(join(dataDir, 'sessiongraph.lock'))).toBe(false);

    const twice = await stopWhileStarting(2);
    expect(twice.code).toBe(1);
    expect(twice.messages).toEqual(['sessiongraph listening', 'stopping once started', 'stopped while starting']);
    // Its lock went with it: a later process given the same pid (pid 1 in a container) would not be turned away.
    expect(existsSync(join(dataDir, 'sessiongraph.lock'))).toBe(false);
    // Ended in the middle of its start (PostgreSQL's lock file possibly created but not yet written), the directory opens again.
    const restarted = await startServer({ DATA_DIR: dataDir });
    try {
      expect(await graphql(restarted.url, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    } finally {
      expect(await restarted.stop()).toBe(0);
    }
  });

  it('migrates an empty data directory, serves, keeps data across a restart and stops cleanly', async () => {
    const dataDir = await tempDir();
    const first = await startServer({ DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_MS: '20000' });
    expect(await graphql(first.url, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    // It listened (answering schema requests) before its database was open, then was ready.
    const order = first.logs.map((l) => l.msg).filter((msg) => msg === 'sessiongraph listening' || msg === 'sessiongraph ready');
    expect(order).toEqual(['sessiongraph listening', 'sessiongraph ready']);

    // No ADMIN_TOKEN: an admin token was generated into DATA_DIR/admin-token (0600), only its path logged.
    const tokenFile = join(dataDir, 'admin-token');
    const secret = (await readFile(tokenFile, 'utf8')).trim();
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect(first.logs.find((l) => l.msg === 'generated an admin API token')).toMatchObject({ file: tokenFile });
    expect(JSON.stringify(first.logs)).not.toContain(secret);
    const admin = `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}`;
    expect(await graphql(first.url, '{ viewer { apiClient { tokenId scope } } }', undefined, admin)).toEqual({
      data: { viewer: { apiClient: { tokenId: 'admin', scope: 'ADMIN' } } },
    });

    // A second process on the same directory is turned away while the first runs.
    const second = await runToEnd(process.execPath, serverEntry, { ...serverEnv, DATA_DIR: dataDir, PORT: '0' });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`is in use by another process (pid ${first.child.pid})`);

    // A live subscription does not hold the shutdown up: its stream ends (the client resumes
    // elsewhere with its last event id) and the process stops long before SHUTDOWN_TIMEOUT_MS.
    const stream = await fetch(`${first.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: admin },
      body: JSON.stringify({ query: 'subscription { sessionEvents { id } }' }),
    });
    const streamed = stream.text();
    const stopping = Date.now();
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5000);
    expect(await streamed).toContain('event: complete');
    expect(first.logs.at(-1)).toMatchObject({ msg: 'stopped' });
    expect(existsSync(join(dataDir, 'sessiongraph.lock'))).toBe(false);

    // Write through the database directly while no server runs, then read it through a new server.
    const db = await openDatabase({ kind: 'pglite', dataDir });
    // The new directory is fully migrated (from the template or by the engine), with Prisma's records.
    const history = (await readMigrationHistory()).migrationDirectories.map((m) => m.path);
    const recorded = await db.prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name`;
    expect(recorded.map((r) => r.migration_name)).toEqual(history);
    const identity = await db.prisma.identity.create({ data: { traits: { email: 'restart@example.com' } } });
    await db.close();

    const restarted = await startServer({ DATA_DIR: dataDir });
    try {
      expect(restarted.logs.find((l) => l.msg === 'migrations applied')).toBeUndefined();
      const result = await graphql(
        restarted.url,
        'query ($id: ID!) { identity(id: $id) { traits } }',
        { id: `Identity:${identity.id}` },
        admin,
      );
      expect(result).toEqual({ data: { identity: { traits: { email: 'restart@example.com' } } } });
      // The same token still works after the restart: it was kept, not regenerated.
      expect(restarted.logs.find((l) => l.msg === 'generated an admin API token')).toBeUndefined();
    } finally {
      expect(await restarted.stop('SIGINT')).toBe(0);
    }
  });
});
