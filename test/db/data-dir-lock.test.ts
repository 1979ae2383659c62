// The embedded database's directory lock: one process at a time, whatever the processes' pids and
// PID namespaces (two containers on one volume both run as pid 1).
import { readFileSync, readlinkSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/db/data-dir-lock.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('data-dir-lock');
const timing = { renewMs: 20, staleMs: 2_000 };
const here = `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()} ${readlinkSync('/proc/self/ns/pid')}`;
const ago = (ms: number) => new Date(Date.now() - ms);

describe.runIf(process.platform === 'linux')('the data directory lock', () => {
  it('names its holder\'s pid, where that pid means something, and a token of its own', async () => {
    const dir = await tempDir();
    const lock = lockDataDir(dir, 'DATA_DIR', timing);
    try {
      expect(readFileSync(join(dir, 'sessiongraph.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid}\\n${here.replace(/[[\]]/g, '\\$&')}\\n[0-9a-f]{24}\\n$`));
    } finally {
      lock.release();
    }
    expect(existsSync(join(dir, 'sessiongraph.lock'))).toBe(false);
  });

  it('takes over at once a lock of its own namespace naming its own pid: the process that wrote it is gone', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, 'sessiongraph.lock'), `${process.pid}\n${here}\nsomeone-elses-token\n`);
    lockDataDir(dir, 'DATA_DIR', timing).release();
  });

  it('judges a lock from another PID namespace (another container, also pid 1) by its renewal, not by a pid that means nothing here', async () => {
    const dir = await tempDir();
    const lockPath = join(dir, 'sessiongraph.lock');
    for (const pid of [1, process.pid, 2 ** 22 + 7]) {
      writeFileSync(lockPath, `${pid}\nanother-boot pid:[4026532999]\nits-token\n`);
      expect(() => lockDataDir(dir, 'DATA_DIR', timing), String(pid)).toThrow(`in use by another process (pid ${pid} in another PID namespace or on another machine`);
    }
    // Unrenewed for longer than staleMs: its holder is gone.
    utimesSync(lockPath, ago(3_000), ago(3_000));
    lockDataDir(dir, 'DATA_DIR', timing).release();
  });

  it('renews its lock while it holds it; taken over (the process stood still too long), it neither renews nor removes the new holder\'s', async () => {
    const dir = await tempDir();
    const lockPath = join(dir, 'sessiongraph.lock');
    const lock = lockDataDir(dir, 'DATA_DIR', timing);
    utimesSync(lockPath, ago(60_000), ago(60_000));
    await expect.poll(() => Date.now() - statSync(lockPath).mtimeMs, { timeout: 1_000, interval: 10 }).toBeLessThan(1_000);
    writeFileSync(lockPath, `1\nanother-boot pid:[4026532999]\nthe-new-holders-token\n`);
    utimesSync(lockPath, ago(60_000), ago(60_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(Date.now() - statSync(lockPath).mtimeMs).toBeGreaterThan(50_000);
    lock.release();
    expect(readFileSync(lockPath, 'utf8')).toContain('the-new-holders-token');
  });

  it('refuses an empty lock that is being written, and takes over one left empty long ago', async () => {
    const dir = await tempDir();
    const lockPath = join(dir, 'sessiongraph.lock');
    writeFileSync(lockPath, '');
    expect(() => lockDataDir(dir, 'DATA_DIR', timing)).toThrow('a process taking it at this moment');
    utimesSync(lockPath, ago(10_000), ago(10_000));
    lockDataDir(dir, 'DATA_DIR', timing).release();
  });

  it('is one lock for a directory however it is named (a symlink to it)', async () => {
    const dir = await tempDir();
    const link = `${dir}-link`;
    symlinkSync(dir, link);
    const lock = lockDataDir(dir, 'DATA_DIR', timing);
    try {
      expect(() => lockDataDir(link, 'DATA_DIR', timing)).toThrow(`pid ${process.pid}`);
    } finally {
      lock.release();
      unlinkSync(link);
    }
  });
});
