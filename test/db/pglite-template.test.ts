import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { zstdCompressSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packDirectory } from '../../src/db/directory-archive.js';
import { unpackDirectory } from '../../src/db/directory-unpack.js';
import { openDatabase } from '../../src/db/database.js';
import { applyMigrations, readMigrationHistory } from '../../src/db/migrations.js';
import { buildTemplate, templatePath } from '../../src/db/pglite-template.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('template');

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

  it('packs a directory into one file and back, empty directories included, refusing paths that escape', async () => {
    const source = await tempDir();
    mkdirSync(join(source, 'a/b'), { recursive: true });
    mkdirSync(join(source, 'empty'));
    writeFileSync(join(source, 'a/b/file'), Buffer.alloc(70_000, 7));
    writeFileSync(join(source, 'top'), 'x');
    const target = join(await tempDir(), 'copy');
    unpackDirectory(packDirectory(source), target);
    expect(readFileSync(join(target, 'a/b/file'))).toEqual(Buffer.alloc(70_000, 7));
    expect(readFileSync(join(target, 'top'), 'utf8')).toBe('x');
    expect(existsSync(join(target, 'empty'))).toBe(true);
    const evil = await tempDir();
    const name = Buffer.from('../x');
    const header = Buffer.alloc(6);
    header.writeUInt16LE(name.length, 0);
    header.writeUInt32LE(1, 2);
    expect(() => unpackDirectory(zstdCompressSync(Buffer.concat([header, name, Buffer.from('y')])), join(evil, 'inner'))).toThrow(/escapes its directory/);
  });
});
