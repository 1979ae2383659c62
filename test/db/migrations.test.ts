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

describe.each(databaseTargets)('numbering events by transaction on $name', (target) => {
  it('keeps the events recorded before it in their order, and numbers every later one after them', async () => {
    const { db, dispose } = await target.open({ migrate: false });
    const before = await mkdtemp(join(tmpdir(), 'sessiongraph-migrations-'));
    try {
      // The history up to the migration that numbers events by transaction, then events, then it.
      const names = (await readMigrationHistory()).migrationDirectories.map((m) => m.path);
      const numbering = names.findIndex((name) => name.endsWith('_event_sequence_from_transaction'));
      expect(numbering).toBeGreaterThan(0);
      await cp(join(migrationsDir, 'migration_lock.toml'), join(before, 'migration_lock.toml'));
      for (const name of names.slice(0, numbering)) await cp(join(migrationsDir, name), join(before, name), { recursive: true });
      await applyMigrations(db.adapterFactory, before);
      const identity = await db.prisma.identity.create({ data: {} });
      const record = (type: 'IDENTITY_CREATED' | 'SESSION_REVOKED', count: number) =>
        db.prisma.sessionEvent.createMany({ data: Array.from({ length: count }, () => ({ type, identityId: identity.id })) });
      await record('IDENTITY_CREATED', 3);
      await applyMigrations(db.adapterFactory);
      await db.prisma.$transaction(async (tx) => {
        await tx.sessionEvent.create({ data: { type: 'SESSION_REVOKED', identityId: identity.id } });
        await tx.sessionEvent.create({ data: { type: 'SESSION_REVOKED', identityId: identity.id } });
      });
      await record('SESSION_REVOKED', 1);
      const events = await db.prisma.sessionEvent.findMany({ orderBy: { sequence: 'asc' }, select: { sequence: true, type: true } });
      expect(events.map((e) => e.sequence).slice(0, 3)).toEqual([1n, 2n, 3n]);
      // Later ones: transaction id × 2^20 + place, the two of one transaction side by side.
      const later = events.slice(3).map((e) => [e.sequence >> 20n, e.sequence & 0xfffffn]);
      expect(later.map(([, place]) => place)).toEqual([1n, 2n, 1n]);
      expect(later[0]![0]).toBe(later[1]![0]);
      expect(later[2]![0]).toBeGreaterThan(later[1]![0]!);
    } finally {
      await rm(before, { recursive: true, force: true });
      await dispose();
    }
  });
});

describe.each(databaseTargets)('reserving event sequences on $name', (target) => {
  it('gives the numbers the column default would, shares its counter, and refuses none or too many', async () => {
    const { db, dispose } = await target.open();
    try {
      const identity = await db.prisma.identity.create({ data: {} });
      const insert = `INSERT INTO session_events (id, type, identity_id) VALUES (gen_random_uuid(), 'SESSION_REVOKED', $1::uuid) RETURNING sequence::text`;
      const numbers = await db.transaction(async (query) => {
        const before = (await query(insert, [identity.id]))[0]!.sequence as string;
        const reserved = (await query('SELECT session_event_sequences(3)::text AS first', []))[0]!.first as string;
        const after = (await query(insert, [identity.id]))[0]!.sequence as string;
        return [before, reserved, after].map(BigInt);
      });
      const [before, reserved, after] = numbers as [bigint, bigint, bigint];
      // One transaction id; places 1, then 2 to 4 reserved, then 5.
      expect([before, reserved, after].map((n) => n >> 20n)).toEqual([before >> 20n, before >> 20n, before >> 20n]);
      expect([before, reserved, after].map((n) => n & 0xfffffn)).toEqual([1n, 2n, 5n]);

      for (const sql of ['SELECT session_event_sequences(0)', 'SELECT session_event_sequences(1048576)']) {
        await expect(db.transaction((query) => query(sql, []))).rejects.toThrow(/at least one event sequence|at most 1048575 events/);
      }
      await expect(
        db.transaction(async (query) => {
          await query('SELECT session_event_sequences(1048575)', []);
          await query(insert, [identity.id]);
        }),
      ).rejects.toThrow(/at most 1048575 events/);
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
