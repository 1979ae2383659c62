// An older Node stops at once with one line naming Node 24: the server, every command-line tool,
// and `npm ci` (engine-strict). Checked anywhere with a Node that pretends to be older, and with the
// machine's own older Node where there is one.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refusal } from '../src/node-version.js';
import { projectRoot, runToEnd, serverEntry } from './support/process.js';
import { temporaryDirectories } from './support/temp-dirs.js';

const tempDir = temporaryDirectories('node-version');
const refused = /^sessiongraph: Node\.js 24 or newer is required; this is Node\.js 20\.\d+\.\d+$/;

// Every entry point a user starts, compiled (`npm test` builds dist/ first).
const entries: [string, string[]][] = [
  ['npm start', serverEntry],
  ['npm run dev', ['dist/cli/dev.js']],
  ...['create-token', 'demo', 'import', 'migrate', 'pglite-template', 'print-schema'].map((cli): [string, string[]] => [cli, [`dist/cli/${cli}.js`]]),
];

describe('the Node version check', () => {
  it('refuses a Node older than 24 in one line naming 24, and accepts 24 and later', () => {
    expect(refusal('20.11.1')).toBe('sessiongraph: Node.js 24 or newer is required; this is Node.js 20.11.1');
    expect(refusal('22.22.0')).toMatch(/24 or newer/);
    expect(refusal('24.0.0')).toBeUndefined();
    expect(refusal('26.1.0')).toBeUndefined();
  });

  // This Node, told it is Node 20 before anything else loads.
  const pretendOld = `data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.11.1"}})`;
  it.each(entries)('%s exits 1 with one line under a Node that reports 20', async (_, args) => {
    const result = await runToEnd(process.execPath, ['--import', pretendOld, ...args], { DATA_DIR: await tempDir() });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(refused)]);
  });
});

/** The machine's own Node when it is older than 24 (e.g. a distribution's /usr/bin/node). */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    if (Number(version.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}
const older = olderNode();
/** npm's own script beside that Node, run by it. */
const olderNpm = older && ['/usr/bin/npm', '/usr/local/bin/npm'].map((npm) => (existsSync(npm) ? realpathSync(npm) : '')).find(Boolean);

describe.runIf(older)("the machine's older Node", () => {
  it.each(entries)('%s exits 1 with one line', async (_, args) => {
    const result = await runToEnd(older!, args, { DATA_DIR: await tempDir() });
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(refused)]);
  });

  it.runIf(olderNpm)('npm ci stops before installing anything, naming Node 24 (engine-strict)', async () => {
    // A copy of what npm ci reads, so nothing of this checkout is touched.
    const dir = await tempDir();
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(projectRoot, file), join(dir, file));
    const result = await runToEnd(older!, [olderNpm!, 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', dir], {
      PATH: `${dirname(older!)}:${process.env.PATH}`,
      npm_config_cache: join(dir, '.npm-cache'),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('EBADENGINE');
    expect(result.stderr).toMatch(/Required: \{"node":">=24"\}/);
    expect(readdirSync(dir)).not.toContain('node_modules');
  });
});
