import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('db');

describe('embedded PGlite database', () => {
  it('keeps its data across a close and reopen', async () => {
    const dataDir = await tempDir();
    const first = await openDatabase({ kind: 'pglite', dataDir });
    await applyMigrations(first.adapterFactory);
    const created = await first.prisma.identity.create({
      data: { traits: { email: 'persist@example.com' }, sessions: { create: { nickname: 'laptop' } } },
    });
    await first.close();

    const second = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await applyMigrations(second.adapterFactory)).toEqual([]);
      const found = await second.prisma.identity.findUnique({ where: { id: created.id }, include: { sessions: true } });
      expect(found?.traits).toEqual({ email: 'persist@example.com' });
      expect(found?.sessions.map((s) => s.nickname)).toEqual(['laptop']);
    } finally {
      await second.close();
    }
  });

  it('lets one process at a time open a directory, with an error naming DATA_DIR', async () => {
    const dataDir = await tempDir();
    const first = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const error = await openDatabase({ kind: 'pglite', dataDir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe('DATA_DIR');
      expect((error as Error).message).toContain(`is in use by another process (pid ${process.pid})`);
    } finally {
      await first.close();
    }
    // Closing releases the lock.
    expect(existsSync(join(dataDir, 'sessiongraph.lock'))).toBe(false);
    const again = await openDatabase({ kind: 'pglite', dataDir });
    await again.close();
  });

  it('refuses a directory another live process holds, and takes over one whose owner died', async () => {
    const dataDir = await tempDir();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(join(dataDir, 'sessiongraph.lock'), String(holder.pid));
      await expect(openDatabase({ kind: 'pglite', dataDir })).rejects.toThrow(`pid ${holder.pid}`);
    } finally {
      holder.kill();
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    // The holder is gone: its lock is stale and the next open takes it.
    const db = await openDatabase({ kind: 'pglite', dataDir });
    expect((await readFile(join(dataDir, 'sessiongraph.lock'), 'utf8')).split('\n')[0]).toBe(String(process.pid));
    await db.close();
  });

  it('opens a directory whose PostgreSQL lock file a killed start left empty', async () => {
    const dataDir = await tempDir();
    const first = await openDatabase({ kind: 'pglite', dataDir });
    await first.prisma.identity.create({ data: { traits: { email: 'kept@example.com' } } });
    await first.close();
    // PostgreSQL creates postmaster.pid, then writes it: killed between the two, it stays empty.
    await writeFile(join(dataDir, 'pglite/postmaster.pid'), '');
    const reopened = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await reopened.prisma.identity.count()).toBe(1);
    } finally {
      await reopened.close();
    }
  });

  it('runs with a development-sized shared_buffers, or the one configured', async () => {
    const sharedBuffers = async (config: { sharedBuffers?: string }) => {
      const db = await openDatabase({ kind: 'pglite', dataDir: await tempDir(), ...config });
      try {
        return (await db.read('SHOW shared_buffers', []))[0]?.shared_buffers;
      } finally {
        await db.close();
      }
    };
    expect(await sharedBuffers({})).toBe('16MB');
    expect(await sharedBuffers({ sharedBuffers: '32MB' })).toBe('32MB');
  });

  it('names DATA_DIR when the directory cannot be created', async () => {
    const error = await openDatabase({ kind: 'pglite', dataDir: '/dev/null/sessiongraph' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^DATA_DIR: data directory \/dev\/null\/sessiongraph cannot be created or written \(ENOTDIR/);
  });
});

describe('PostgreSQL database', () => {
  it('names DATABASE_URL when the server cannot be reached', async () => {
    const started = Date.now();
    const error = await openDatabase({
      kind: 'postgres',
      url: 'postgres://postgres:secret@127.0.0.1:1/sessiongraph',
      poolSize: 2,
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'DATABASE_URL: cannot connect to postgres://postgres:***@127.0.0.1:1/sessiongraph: connection refused (is PostgreSQL running?)',
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it.runIf(process.env.TEST_DATABASE_URL)('names a database that does not exist', async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = '/sessiongraph_no_such_database';
    await expect(
      openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 2, connectTimeoutMs: 2000 }),
    ).rejects.toThrow(/^DATABASE_URL: cannot connect to .*: database does not exist$/);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('direct reads on PostgreSQL', () => {
  it.each([true, false])('prepare their statements with generic plans only when DATABASE_PREPARED_STATEMENTS is on (%s)', async (preparedStatements) => {
    const { createPostgresDatabase } = await import('../support/databases.js');
    const created = await createPostgresDatabase();
    const db = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 1, connectTimeoutMs: 5000, preparedStatements });
    try {
      const text = 'SELECT $1::int + 1 AS answer';
      expect(await db.read(text, [41])).toEqual([{ answer: 42 }]);
      expect(await db.read(text, [1])).toEqual([{ answer: 2 }]);
      // One connection: these see the session the reads ran in.
      const [{ prepared }] = (await db.read('SELECT count(*)::int AS prepared FROM pg_prepared_statements WHERE statement = $1', [text])) as [{ prepared: number }];
      const [{ mode }] = (await db.read("SELECT current_setting('plan_cache_mode') AS mode", [])) as [{ mode: string }];
      expect([prepared, mode]).toEqual(preparedStatements ? [1, 'force_generic_plan'] : [0, 'auto']);
    } finally {
      await db.close();
      await created.drop();
    }
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('times on PostgreSQL', () => {
  it('are written and read as they are under a database whose timezone is not UTC (Prisma\'s adapter drops offsets)', async () => {
    const { createPostgresDatabase } = await import('../support/databases.js');
    const created = await createPostgresDatabase();
    const admin = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 1, connectTimeoutMs: 5000 });
    await admin.read(`ALTER DATABASE "${new URL(created.url).pathname.slice(1)}" SET timezone = 'Asia/Kathmandu'`, []);
    await admin.close();
    const db = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 2, connectTimeoutMs: 5000 });
    try {
      await applyMigrations(db.adapterFactory);
      const expiresAt = new Date('2026-12-04T18:00:20.500Z');
      const identity = await db.prisma.identity.create({ data: { traits: {} } });
      const session = await db.prisma.session.create({ data: { identityId: identity.id, type: 'PASSWORD', expiresAt } });
      expect((await db.prisma.session.findUniqueOrThrow({ where: { id: session.id } })).expiresAt).toEqual(expiresAt);
      const [row] = (await db.read("SELECT expires_at, to_char(expires_at AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') AS utc, current_setting('TimeZone') AS zone FROM sessions WHERE id = $1::uuid", [session.id])) as [{ expires_at: Date; utc: string; zone: string }];
      expect(row).toEqual({ expires_at: expiresAt, utc: '18:00:20.500', zone: 'UTC' });
    } finally {
      await db.close();
      await created.drop();
    }
  });
});
