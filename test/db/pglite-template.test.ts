import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packDirectory } from '../../src/db/directory-archive.js';
import { makeSpare, takeSpare, unpackDirectory, unpackInto } from '../../src/db/directory-unpack.js';
import { openDatabase } from '../../src/db/database.js';
import { applyMigrations, readMigrationHistory } from '../../src/db/migrations.js';
import { buildTemplate, packedTemplate, templatePath, zeroWalBeforeCheckpoint } from '../../src/db/pglite-template.js';
import { projectRoot } from '../../src/paths.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('template');

/** A packed directory holding PG_VERSION alone, as a file. */
async function packedVersionFile(): Promise<string> {
  const source = await tempDir();
  writeFileSync(join(source, 'PG_VERSION'), '17');
  const archive = join(await tempDir(), 'packed');
  writeFileSync(archive, packDirectory(source));
  return archive;
}

describe('embedded database template', () => {
  it('is keyed by the migration history and starts a new database fully migrated', async () => {
    const path = await buildTemplate();
    expect(path).toBe(await templatePath());
    expect(existsSync(path)).toBe(true);
    const db = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    try {
      const names = (await readMigrationHistory()).migrationDirectories.map((m) => m.path);
      const recorded = await db.prisma.$queryRaw<{ migration_name: string }[]>`
        SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name`;
      expect(recorded.map((r) => r.migration_name)).toEqual(names);
      expect(await applyMigrations(db.adapterFactory)).toEqual([]);
      await db.prisma.identity.create({ data: {} });
    } finally {
      await db.close();
    }
  });

  it('removes the templates of other migration histories when it builds or finds the current one', async () => {
    const current = await buildTemplate();
    const stale = join(dirname(current), 'pglite-template-0000000000000000.dir.zst');
    writeFileSync(stale, 'an earlier history');
    expect(await buildTemplate()).toBe(current);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(current)).toBe(true);
  });

  it('starts a new data directory on disk from the packed template, migrated and writable, and keeps it', async () => {
    await buildTemplate();
    const dataDir = await tempDir();
    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await applyMigrations(db.adapterFactory)).toEqual([]);
      // The template databases (for CREATE DATABASE alone) are left out: half the files to write.
      expect(await db.read('SELECT datname FROM pg_database ORDER BY datname', [])).toEqual([{ datname: 'postgres' }]);
      await db.prisma.identity.create({ data: { traits: { kept: true } } });
    } finally {
      await db.close();
    }
    expect(readdirSync(dataDir).filter((name) => name.includes('partial'))).toEqual([]);
    const reopened = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await reopened.prisma.identity.count()).toBe(1);
    } finally {
      await reopened.close();
    }
  });

  it('packs a directory into one file and back, empty directories included, pages of zeros left as holes, refusing paths that escape', async () => {
    const source = await tempDir();
    mkdirSync(join(source, 'a/b'), { recursive: true });
    mkdirSync(join(source, 'empty'));
    writeFileSync(join(source, 'a/b/file'), Buffer.alloc(70_000, 7));
    // Data, four pages of zeros, data, a partial page of zeros at the end.
    const sparse = Buffer.concat([Buffer.alloc(8192, 1), Buffer.alloc(4 * 8192), Buffer.alloc(100, 2), Buffer.alloc(8092 + 8192 + 10)]);
    writeFileSync(join(source, 'sparse'), sparse);
    writeFileSync(join(source, 'zeros'), Buffer.alloc(3 * 8192));
    writeFileSync(join(source, 'top'), 'x');
    writeFileSync(join(source, 'nothing'), '');
    const packed = packDirectory(source);
    expect(packed.length).toBeLessThan(70_000 + 2 * 8192 + 200);
    const target = join(await tempDir(), 'copy');
    unpackDirectory(packed, target);
    expect(readFileSync(join(target, 'a/b/file'))).toEqual(Buffer.alloc(70_000, 7));
    expect(readFileSync(join(target, 'sparse'))).toEqual(sparse);
    expect(readFileSync(join(target, 'zeros'))).toEqual(Buffer.alloc(3 * 8192));
    expect(statSync(join(target, 'zeros')).blocks).toBe(0);
    expect(readFileSync(join(target, 'top'), 'utf8')).toBe('x');
    expect(readFileSync(join(target, 'nothing'), 'utf8')).toBe('');
    expect(existsSync(join(target, 'empty'))).toBe(true);

    // A damaged archive (cut anywhere, a byte changed) is refused before anything is written; so is
    // an entry whose name leaves the directory.
    const one = await tempDir();
    writeFileSync(join(one, 'abcd'), 'y');
    writeFileSync(join(one, 'efgh'), Buffer.alloc(20_000, 3));
    const whole = packDirectory(one);
    const inner = join(await tempDir(), 'inner');
    const entryBoundary = whole.indexOf(Buffer.from('efgh')) - 2;
    for (const damaged of [whole.subarray(0, entryBoundary), whole.subarray(0, -1), whole.subarray(0, 10), Buffer.concat([whole.subarray(0, 60), Buffer.from([0xff]), whole.subarray(61)])]) {
      expect(() => unpackDirectory(damaged, inner)).toThrow(/is damaged/);
      expect(existsSync(inner)).toBe(false);
    }
    const evil = Buffer.from(whole);
    evil.write('../x', evil.indexOf(Buffer.from('abcd')));
    evil.writeUInt32LE(crc32(evil.subarray(0, -4)), evil.length - 4);
    expect(() => unpackDirectory(evil, inner)).toThrow(/escapes its directory/);
  });

  it('unpacks into place, removing the half copies a killed process left and an empty leftover', async () => {
    const archive = await packedVersionFile();
    const parent = await tempDir();
    mkdirSync(join(parent, 'pglite.12345.partial/base'), { recursive: true });
    mkdirSync(join(parent, 'pglite'));
    mkdirSync(join(parent, 'pglite.keep.partial'));
    unpackInto(archive, join(parent, 'pglite'));
    expect(readdirSync(parent).sort()).toEqual(['pglite', 'pglite.keep.partial']);
    expect(readFileSync(join(parent, 'pglite/PG_VERSION'), 'utf8')).toBe('17');
  });

  it('keeps a spare copy that a new directory takes by renaming, made again beside copies of ended processes', async () => {
    const archive = await packedVersionFile();
    const cache = await tempDir();
    const spare = join(cache, 'template.spare');
    // A copy of an ended process (no process has id 2^22 + 1 here) goes; one in progress in a live process stays.
    mkdirSync(join(cache, `template.spare.${2 ** 22 + 1}.1.partial`));
    mkdirSync(join(cache, `template.spare.${process.ppid}.1.partial`));
    makeSpare(archive, spare);
    expect(readdirSync(cache).sort()).toEqual(['template.spare', `template.spare.${process.ppid}.1.partial`]);
    writeFileSync(join(spare, 'marker'), 'the same spare');
    makeSpare(archive, spare); // one is there: left as it is
    expect(readFileSync(join(spare, 'marker'), 'utf8')).toBe('the same spare');
    const parent = await tempDir();
    mkdirSync(join(parent, 'pglite')); // an empty leftover
    expect(takeSpare(spare, join(parent, 'pglite'))).toBe(true);
    expect(readFileSync(join(parent, 'pglite/PG_VERSION'), 'utf8')).toBe('17');
    expect(existsSync(spare)).toBe(false);
    expect(takeSpare(spare, join(parent, 'other'))).toBe(false);
  });

  it('makes the spare in two processes at once without error: the second finds the first\'s', async () => {
    await buildTemplate();
    const archive = packedTemplate()!;
    const spare = join(await tempDir(), 'template.spare');
    const script = `import { makeSpare } from './src/db/directory-unpack.ts'; makeSpare(${JSON.stringify(archive)}, ${JSON.stringify(spare)});`;
    const make = () => promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: projectRoot });
    for (let round = 0; round < 3; round++) {
      rmSync(spare, { recursive: true, force: true });
      // Both past their check for a spare before either has renamed its copy into place (an unpack takes 50–100 ms).
      await Promise.all([make(), make()]);
      expect(readFileSync(join(spare, 'PG_VERSION'), 'utf8').trim()).toMatch(/^\d+$/);
      expect(readdirSync(dirname(spare))).toEqual(['template.spare']);
    }
  });

  it("zeroes a cleanly shut down directory's WAL before its last checkpoint, and PostgreSQL opens it with every row", async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const dir = join(await tempDir(), 'pglite');
    const first = await PGlite.create(dir);
    await first.exec('CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 5000)');
    await first.close();
    const wal = join(dir, 'pg_wal', readdirSync(join(dir, 'pg_wal')).find((name) => /^[0-9A-F]{24}$/.test(name))!);
    const before = readFileSync(wal);
    zeroWalBeforeCheckpoint(dir);
    const after = readFileSync(wal);
    // The segment's header page stays; the records before the checkpoint are gone.
    expect(after.subarray(0, 8192)).toEqual(before.subarray(0, 8192));
    const zeroed = after.subarray(8192).findIndex((byte) => byte !== 0);
    expect(zeroed).toBeGreaterThan(1_000_000);
    expect(before.subarray(8192, 8192 + zeroed).some((byte) => byte !== 0)).toBe(true);
    const reopened = await PGlite.create(dir);
    try {
      expect((await reopened.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 5000 }]);
      await reopened.exec('INSERT INTO t VALUES (1)');
    } finally {
      await reopened.close();
    }
    const again = await PGlite.create(dir);
    try {
      expect((await again.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 5001 }]);
    } finally {
      await again.close();
    }
    // Only after a clean shutdown.
    const control = join(dir, 'global/pg_control');
    const state = readFileSync(control);
    state.writeUInt32LE(6, 16); // DB_IN_PRODUCTION
    writeFileSync(control, state);
    expect(() => zeroWalBeforeCheckpoint(dir)).toThrow(/was not shut down cleanly/);
  });
});
