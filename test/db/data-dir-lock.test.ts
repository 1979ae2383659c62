// The embedded database's directory lock: one process at a time, whatever the process's pid.
import { existsSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/db/data-dir-lock.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('data-dir-lock');
const timing = { renewMs: 20, staleMs: 2_000 };

describe('the data directory lock', () => {
  it('refuses a lock naming this process\'s own pid while it is renewed (a live process in another container, also pid 1), and takes it over once it is not', async () => {
    const dir = await tempDir();
    const lockPath = join(dir, 'sessiongraph.lock');
    writeFileSync(lockPath, String(process.pid));
    expect(() => lockDataDir(dir, 'DATA_DIR', timing)).toThrow(`in use by another process (pid ${process.pid}, this process's own pid`);
    // Left by an earlier process with this pid (a restarted container's pid 1): unrenewed, it is stale.
    const past = new Date(Date.now() - 3_000);
    utimesSync(lockPath, past, past);
    const lock = lockDataDir(dir, 'DATA_DIR', timing);
    try {
      // Held here now: refused to a second taker in this process, whatever its age.
      utimesSync(lockPath, past, past);
      expect(() => lockDataDir(dir, 'DATA_DIR', timing)).toThrow(`pid ${process.pid}`);
    } finally {
      lock.release();
    }
    expect(existsSync(lockPath)).toBe(false);
  });

  it('renews its lock while it holds it, so that no one takes it over for stale', async () => {
    const dir = await tempDir();
    const lockPath = join(dir, 'sessiongraph.lock');
    const lock = lockDataDir(dir, 'DATA_DIR', timing);
    try {
      const past = new Date(Date.now() - 60_000);
      utimesSync(lockPath, past, past);
      await expect.poll(() => Date.now() - statSync(lockPath).mtimeMs, { timeout: 1_000, interval: 10 }).toBeLessThan(1_000);
    } finally {
      lock.release();
    }
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
