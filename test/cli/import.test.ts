import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { runToEnd } from '../support/process.js';

const importCli = (args: string[], env: Record<string, string>) =>
  runToEnd(process.execPath, ['dist/cli/import.js', ...args], env, 60_000);

describe('import command', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sessiongraph-import-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('imports a vendor file into the embedded database, and again without duplicating', async () => {
    const first = await importCli(['--from', 'kratos', 'test/fixtures/kratos-sessions.json'], { DATA_DIR: dataDir });
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/2 sessions \(2 new, 0 updated\), identities 1 new, 0 updated, into embedded PGlite/);
    const second = await importCli(['--from', 'KRATOS', 'test/fixtures/kratos-sessions.json'], { DATA_DIR: dataDir });
    expect(second.stdout).toMatch(/2 sessions \(0 new, 2 updated\)/);
    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await db.prisma.session.count()).toBe(2);
    } finally {
      await db.close();
    }
  });

  it('refuses a placeholder file naming the field, and writes nothing', async () => {
    const result = await importCli(['--from', 'clerk', 'test/fixtures/clerk-seed.json'], { DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('import refused, nothing written: [0].id: expected a Clerk id "sess_…", got "string"');
  });

  it('refuses a document nested deeper than MAX_INPUT_DEPTH, naming the limit, as the GraphQL path does', async () => {
    const deep = join(dataDir, 'deep.json');
    await writeFile(deep, `{"data": [{"id": "sess_1", "extra": ${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`);
    const result = await importCli(['--from', 'clerk', deep], { DATA_DIR: dataDir });
    expect([result.code, result.stderr.trim()]).toEqual([1, 'import refused, nothing written: (file): nests deeper than 32 levels (MAX_INPUT_DEPTH)']);
    const raised = await importCli(['--from', 'clerk', deep], { DATA_DIR: dataDir, MAX_INPUT_DEPTH: '64' });
    expect(raised.stderr.trim()).toBe('import refused, nothing written: (file): nests deeper than 64 levels (MAX_INPUT_DEPTH)');
  });

  it('explains bad arguments and unreadable or malformed files', async () => {
    expect((await importCli(['--from', 'okta', 'x.json'], {})).stderr).toMatch(/--from must be grid, kratos or clerk/);
    expect((await importCli(['--from', 'grid'], {})).stderr).toMatch(/give exactly one file/);
    expect((await importCli(['--from', 'grid', '/nonexistent.json'], {})).stderr).toMatch(/cannot read \/nonexistent.json: ENOENT/);
    const broken = join(dataDir, 'broken.json');
    await writeFile(broken, '{"data": [');
    const result = await importCli(['--from', 'grid', broken], { DATA_DIR: dataDir });
    expect([result.code, result.stderr]).toEqual([1, expect.stringMatching(/^import refused, nothing written: \(file\): not valid JSON/)]);
  });
});
