import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../support/databases.js';
import { runToEnd } from '../support/process.js';

const migrate = (args: string[], env: Record<string, string>) =>
  runToEnd(process.execPath, ['dist/cli/migrate.js', ...args], env, 60_000);

describe('migrate command', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('finds a new embedded database up to date (it starts from the migrated template)', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sessiongraph-cli-'));
    const first = await migrate(['apply'], { DATA_DIR: dataDir });
    expect(first.stderr).toBe('');
    expect([first.code, first.stdout]).toEqual([0, expect.stringMatching(/embedded PGlite in .*: already up to date/)]);
  });

  it.runIf(process.env.TEST_DATABASE_URL)('applies pending migrations to an empty PostgreSQL database, then reports it up to date', async () => {
    const database = await createPostgresDatabase();
    try {
      const first = await migrate(['apply'], { DATABASE_URL: database.url });
      expect(first.stderr).toBe('');
      expect(first.stdout).toMatch(/PostgreSQL at .*: applied \d{14}_init, \d{14}_session_revocation_reason/);
      const second = await migrate(['apply'], { DATABASE_URL: database.url });
      expect(second.stdout).toMatch(/already up to date/);
    } finally {
      await database.drop();
    }
  });

  it('finds no drift between the history and schema.prisma', async () => {
    const result = await migrate(['check'], {});
    expect([result.code, result.stdout.trim()]).toEqual([0, 'prisma/migrations matches prisma/schema.prisma']);
  });

  it('explains its usage and names a bad DATABASE_URL', async () => {
    expect((await migrate([], {})).stderr).toMatch(/^usage: migrate apply/);
    const bad = await migrate(['apply'], { DATABASE_URL: 'nonsense' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^sessiongraph: DATABASE_URL: is not a URL/);
  });
});
