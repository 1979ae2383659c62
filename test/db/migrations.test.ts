import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MigrationNameError,
  applyMigrations,
  createMigration,
  migrationsDir,
  pendingSchemaChanges,
  readMigrationHistory,
  schemaPath,
} from '../../src/db/migrations.js';
import { databaseTargets } from '../support/databases.js';

describe.each(databaseTargets)('migrations on $name', (target) => {
  it('apply every migration to an empty database, record them, and do nothing the second time', async () => {
    const { db, dispose } = await target.open({ migrate: false });
    try {
      const history = await readMigrationHistory();
      const names = history.migrationDirectories.map((m) => m.path);
      expect(names.length).toBeGreaterThan(0);

      expect(await applyMigrations(db.adapterFactory)).toEqual(names);
      const recorded = await db.prisma.$queryRaw<{ migration_name: string; finished_at: Date | null }[]>`
        SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name`;
      expect(recorded.map((r) => r.migration_name)).toEqual(names);
      expect(recorded.every((r) => r.finished_at instanceof Date)).toBe(true);

      expect(await applyMigrations(db.adapterFactory)).toEqual([]);
      const rows = await db.prisma.$queryRaw<{ count: bigint }[]>`
        SELECT count(*) AS count FROM _prisma_migrations`;
      expect(Number(rows[0]?.count)).toBe(names.length);

      // The tables are really there and usable through the client.
      const identity = await db.prisma.identity.create({ data: { traits: { email: 'a@example.com' } } });
      expect(identity.id).toMatch(/^[0-9a-f-]{8}-[0-9a-f-]{4}-7/); // UUIDv7
    } finally {
      await dispose();
    }
  });
});

describe('migration history', () => {
  const scratch: string[] = [];
  afterAll(async () => {
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('matches prisma/schema.prisma (no drift)', async () => {
    expect(await pendingSchemaChanges()).toBeNull();
  });

  it('has Prisma\'s lock file for PostgreSQL', async () => {
    expect(await readFile(join(migrationsDir, 'migration_lock.toml'), 'utf8')).toMatch(/provider = "postgresql"/);
  });

  it('writes the next migration from a schema change, and nothing when there is none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sessiongraph-migrations-'));
    scratch.push(dir);
    const migrations = join(dir, 'migrations');
    await cp(migrationsDir, migrations, { recursive: true });
    const schema = join(dir, 'schema.prisma');
    const original = await readFile(schemaPath, 'utf8');
    await writeFile(schema, original.replace('  location    String?', '  location    String?\n  platform    String?'));

    const folder = await createMigration('Add device platform!', {
      dir: migrations,
      schema,
      now: new Date('2030-01-02T03:04:05Z'),
    });
    expect(folder).toBe(join(migrations, '20300102030405_add_device_platform'));
    const sql = await readFile(join(folder!, 'migration.sql'), 'utf8');
    expect(sql).toMatch(/ALTER TABLE "devices" ADD COLUMN\s+"platform" TEXT/);

    // The new history now matches the changed schema.
    expect(await createMigration('again', { dir: migrations, schema })).toBeNull();
    expect((await readdir(migrations)).filter((n) => n.endsWith('_again'))).toEqual([]);
  });

  it('refuses a name with no letters or digits', async () => {
    await expect(createMigration('  !!  ')).rejects.toThrow(MigrationNameError);
  });
});
