// PGlite is a single-process database: two processes writing the same directory corrupt it. A lock
// file holding the owner's pid keeps a second process (a CLI while the server runs) out with a clear
// error; a lock left by a process that no longer exists is taken over. A lock naming this process's
// own pid, which it does not hold, is either left by an earlier process with that pid (a container's
// server restarted on its volume is pid 1 again) or held by a process in another PID namespace (a
// second container on the same volume, also pid 1): a holder renews its lock's mtime every few
// seconds, so only a lock left unrenewed for a while is taken over. A process ending by process.exit
// removes its lock on the way out.
import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, utimesSync, writeSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.js';

export interface DataDirLock {
  release(): void;
}

/** The lock files this process holds (by real path: a symlinked DATA_DIR is the same directory), with their release. */
const held = new Map<string, () => void>();
let releasedOnExit = false;

export interface LockTiming {
  /** How often the holder renews its lock's mtime. */
  renewMs: number;
  /** How long unrenewed a lock naming this process's own pid must be before it is taken over. */
  staleMs: number;
}
const defaultTiming: LockTiming = { renewMs: 5_000, staleMs: 30_000 };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${(error as Error).message.replace(/^\w+: /, '')}` : String(error);
}

/** Creates `dir` if needed, checks it is writable and takes its lock, or throws a ConfigError. */
export function lockDataDir(dir: string, variable = 'DATA_DIR', timing: LockTiming = defaultTiming): DataDirLock {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new ConfigError(variable, `data directory ${dir} cannot be created or written (${describe(error)})`);
  }
  const lockPath = join(realpathSync(dir), 'sessiongraph.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ConfigError(variable, `data directory ${dir} cannot be written (${describe(error)})`);
      }
      const owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      const ownPid = owner === process.pid && !held.has(lockPath);
      const ownerLives = ownPid ? Date.now() - statSync(lockPath).mtimeMs < timing.staleMs : isAlive(owner);
      if (Number.isInteger(owner) && owner > 0 && ownerLives) {
        const whose = ownPid
          ? `pid ${owner}, this process's own pid: a process in another container sharing the directory, or one that ended without releasing it, whose lock is taken over once unrenewed for ${timing.staleMs / 1000} s`
          : `pid ${owner}`;
        throw new ConfigError(
          variable,
          `the embedded database in ${dir} is in use by another process (${whose}); PGlite allows one process at a time: stop that process, or set DATABASE_URL to use PostgreSQL`,
        );
      }
      unlinkSync(lockPath); // stale: its owner is gone
      continue;
    }
    writeSync(fd, String(process.pid));
    closeSync(fd);
    const renewal = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(lockPath, now, now);
      } catch {
        // Gone (the directory removed under us): nothing to renew.
      }
    }, timing.renewMs).unref();
    const release = () => {
      if (!held.delete(lockPath)) return;
      clearInterval(renewal);
      try {
        if (readFileSync(lockPath, 'utf8') === String(process.pid)) unlinkSync(lockPath);
      } catch {
        // Already gone: nothing to release.
      }
    };
    held.set(lockPath, release);
    if (!releasedOnExit) {
      releasedOnExit = true;
      process.on('exit', () => {
        for (const releaseOne of [...held.values()]) releaseOne();
      });
    }
    return { release };
  }
  throw new ConfigError(variable, `could not take the lock ${lockPath}`);
}
