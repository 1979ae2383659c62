import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runToEnd } from '../support/process.js';

const migrate = (args: string[], env: Record<string, string>) =>
  runToEnd(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts', ...args], env, 60_000);

describe('migrate command', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('applies pending migrations to the configured database, then reports it up to date', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sessiongraph-cli-'));
    const first = await migrate(['apply'], { DATA_DIR: dataDir });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/embedded PGlite in .*: applied \d{14}_init/);
    const second = await migrate(['apply'], { DATA_DIR: dataDir });
    expect(second.stdout).toMatch(/already up to date/);
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
