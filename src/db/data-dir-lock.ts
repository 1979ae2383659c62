// PGlite is a single-process database: two processes writing the same directory corrupt it. A lock
// file holding the owner's pid keeps a second process (a CLI while the server runs) out with a clear
// error; a lock left by a process that no longer exists is taken over. So is one naming this process
// that it does not hold: an earlier process had the same pid (a container's server, restarted on its
// volume, is pid 1 again). A process ending by process.exit removes its lock on the way out.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../config.js';

export interface DataDirLock {
  release(): void;
}

/** The lock files this process holds. */
const held = new Set<string>();

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
export function lockDataDir(dir: string, variable = 'DATA_DIR'): DataDirLock {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new ConfigError(variable, `data directory ${dir} cannot be created or written (${describe(error)})`);
  }
  const lockPath = resolve(dir, 'sessiongraph.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ConfigError(variable, `data directory ${dir} cannot be written (${describe(error)})`);
      }
      const owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      const ownerLives = owner === process.pid ? held.has(lockPath) : isAlive(owner);
      if (Number.isInteger(owner) && owner > 0 && ownerLives) {
        throw new ConfigError(
          variable,
          `the embedded database in ${dir} is in use by another process (pid ${owner}); ` +
            'PGlite allows one process at a time: stop that process, or set DATABASE_URL to use PostgreSQL',
        );
      }
      unlinkSync(lockPath); // stale: its owner is gone
      continue;
    }
    writeSync(fd, String(process.pid));
    closeSync(fd);
    held.add(lockPath);
    const release = () => {
      if (!held.delete(lockPath)) return;
      process.off('exit', release);
      try {
        if (readFileSync(lockPath, 'utf8') === String(process.pid)) unlinkSync(lockPath);
      } catch {
        // Already gone: nothing to release.
      }
    };
    process.on('exit', release);
    return { release };
  }
  throw new ConfigError(variable, `could not take the lock ${lockPath}`);
}
