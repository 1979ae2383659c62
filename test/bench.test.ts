// The benchmark harness must keep working: its 30-second smoke run, end to end.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStartScript, scriptEnv, startCommand } from '../bench/start-command.js';
import { runToEnd } from './support/process.js';

describe("npm start's command, as the benchmark and the tests run the server", () => {
  it('is read from package.json: the environment it sets, then node and its arguments', () => {
    expect(parseStartScript('A_B=16384 C=x node --max-old-space-size=192 dist/main.js')).toEqual({
      env: { A_B: '16384', C: 'x' },
      defaults: {},
      args: ['--max-old-space-size=192', 'dist/main.js'],
    });
    expect(parseStartScript('exec node dist/main.js')).toEqual({ env: {}, defaults: {}, args: ['dist/main.js'] });
    // A default the caller's environment replaces, as the shell does.
    const defaulted = parseStartScript('A=${A:-32768} B=1 exec node dist/main.js');
    expect(defaulted).toEqual({ env: { B: '1' }, defaults: { A: '32768' }, args: ['dist/main.js'] });
    expect(scriptEnv(defaulted, {})).toEqual({ A: '32768', B: '1' });
    expect(scriptEnv(defaulted, { A: '65536', B: '2' })).toEqual({ B: '1' });
    expect(scriptEnv(defaulted, { A: '' })).toEqual({ A: '32768', B: '1' });
    expect(startCommand().args.at(-1)).toBe('dist/bundle/main.js');
  });

  it('refuses a script it cannot run the same way, naming it', () => {
    for (const script of ['node', 'npm run build && node dist/main.js', 'node --title="a b" dist/main.js', 'X=1 tsx src/main.ts', 'A=${B:-1} node dist/main.js', 'A=$B node dist/main.js']) {
      expect(() => parseStartScript(script), script).toThrow(`package.json's start script is not`);
    }
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('npm run bench -- --quick', () => {
  it('seeds, loads every scenario without errors, and reports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sessiongraph-bench-test-'));
    try {
      const out = join(dir, 'results.json');
      const run = await runToEnd('npm', ['run', '--silent', 'bench', '--', '--quick', '--out', out], { BENCH_DATABASE_URL: process.env.TEST_DATABASE_URL! }, 240_000);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/\| securityPage \| \d+ \|/);
      expect(run.stdout).toMatch(/- webhook delivery per revocation: [+-][\d.]+ server CPU ms/);
      const results = JSON.parse(await readFile(out, 'utf8'));
      type Measured = { requests: number; errors: number };
      const scenarios = results.scenarios as Record<string, { ours: Measured; raw?: Measured; peer?: Measured }>;
      expect(Object.keys(scenarios).sort()).toEqual(
        ['activePage', 'confirmRevocation', 'entities', 'jwtSecurityPageEmptySet', 'jwtSecurityPageFullSet', 'nodes', 'revokeSession', 'securityPage', 'securityPagePglite'].sort(),
      );
      for (const [name, scenario] of Object.entries(scenarios)) {
        for (const measured of [scenario.ours, scenario.raw, scenario.peer]) {
          if (!measured) continue;
          expect(measured.requests, name).toBeGreaterThan(0);
          expect(measured.errors, name).toBe(0);
        }
      }
      // The baseline and the peer answer the pages they are compared on.
      expect(Object.keys(scenarios).filter((name) => scenarios[name]!.raw).sort()).toEqual(['activePage', 'nodes', 'securityPage']);
      expect(Object.keys(scenarios).filter((name) => scenarios[name]!.peer).sort()).toEqual(['nodes', 'securityPage']);
      expect(results.statementsPerRequest).toEqual({ securityPage: 1, activePage: 1, nodes: 1, entities: 1 });
      expect(results.coldStartMs).toBeGreaterThan(0);
      expect(results.coldStartDataMs).toBeGreaterThanOrEqual(results.coldStartMs as number);
      for (const start of [results.npmStart.empty, results.npmStart.restart]) {
        expect(start.firstAnswerMs).toBeGreaterThan(0);
        expect(start.firstDataMs).toBeGreaterThanOrEqual(start.firstAnswerMs);
      }
      expect(results.serverMemory.peakRssMB).toBeGreaterThan(0);
      expect(results.serverMemory.readsPeakRssMB).toBeGreaterThan(0);
      expect(results.serverMemory.readsPeakRssMB).toBeLessThanOrEqual(results.serverMemory.peakRssMB);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

// Needs valgrind and PostgreSQL's server binaries (both on the machines CI runs on).
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;
describe.runIf(hasValgrind)('npm run bench:instructions -- --quick', () => {
  it("counts each read scenario's planned statement on a throwaway cluster", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sessiongraph-instructions-test-'));
    try {
      const out = join(dir, 'counts.json');
      const run = await runToEnd('npm', ['run', '--silent', 'bench:instructions', '--', '--quick', '--json', out], {}, 240_000);
      expect(run.code, run.stderr).toBe(0);
      const counts = JSON.parse(await readFile(out, 'utf8')) as Record<string, number>;
      expect(Object.keys(counts)).toEqual(['securityPage', 'activePage', 'nodes', 'entities']);
      // A planned read costs the backend tens of thousands of instructions at the least; zero or
      // less would mean the two runs were not the same statement.
      for (const [scenario, count] of Object.entries(counts)) expect(count, scenario).toBeGreaterThan(10_000);
      expect(run.stdout).toMatch(/\| activePage \| \d+\.\d \|/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
