import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { applyMigrations, readMigrationHistory } from '../../src/db/migrations.js';
import { buildTemplate, templatePath } from '../../src/db/pglite-template.js';

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
});
