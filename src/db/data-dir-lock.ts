// PGlite is a single-process database: two processes writing the same directory corrupt it. A lock
// file keeps a second process (a CLI while the server runs, a second container on the same volume)
// out with a clear error. It names its holder's pid, where that pid means something (the machine's
// boot and the PID namespace: two containers both see themselves as pid 1), and a token of its own.
// Within that namespace a lock whose pid is gone is taken over at once. From anywhere else a pid
// says nothing, so the holder renews the lock's mtime every few seconds and a lock left unrenewed
// for a while is taken over. The holder renews and removes only a lock that still carries its
// token; a process ending by process.exit removes its lock on the way out.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync, statSync, unlinkSync, utimesSync, writeSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.js';

export interface DataDirLock {
  release(): void;
}

export interface LockTiming {
  /** How often the holder renews its lock's mtime. */
  renewMs: number;
  /** How long a lock from another PID namespace or machine must go unrenewed before it is taken over. */
  staleMs: number;
}
const defaultTiming: LockTiming = { renewMs: 5_000, staleMs: 30_000 };
/** How long an empty lock file is taken for one being written. */
const emptyLockGraceMs = 2_000;

/** The lock files this process holds (by real path: a symlinked DATA_DIR is the same directory), with their release. */
const held = new Map<string, () => void>();
let releasedOnExit = false;

/** Where this process's pid means something: the machine's boot and the PID namespace; '' where unknown (not Linux). */
function pidNamespace(): string {
  try {
    return `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()} ${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return '';
  }
}

/** A lock file's lines: pid, namespace, token. A lock of an earlier version holds the pid alone. */
function readLock(lockPath: string): { pid: number; namespace: string; token: string } {
  const [pid = '', namespace = '', token = ''] = readFileSync(lockPath, 'utf8').split('\n');
  return { pid: Number.parseInt(pid, 10), namespace, token };
}

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
  const here = pidNamespace();
  const token = randomBytes(12).toString('hex');
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ConfigError(variable, `data directory ${dir} cannot be written (${describe(error)})`);
      }
      const owner = readLock(lockPath);
      const age = Date.now() - statSync(lockPath).mtimeMs;
      // Unknown on either side (not Linux, an earlier version's lock): the pid is taken as ours to check.
      const elsewhere = owner.namespace !== '' && here !== '' && owner.namespace !== here;
      // Empty: another process has just created it and is writing it (or died doing so, long ago).
      const beingTaken = !(owner.pid > 0) && age < emptyLockGraceMs;
      const ownerLives =
        held.has(lockPath) || beingTaken || (elsewhere ? age < timing.staleMs : owner.pid > 0 && owner.pid !== process.pid && isAlive(owner.pid));
      if (ownerLives) {
        const whose = beingTaken
          ? 'a process taking it at this moment'
          : elsewhere
            ? `pid ${owner.pid} in another PID namespace or on another machine — another container sharing the directory? A lock its holder stops renewing is taken over ${timing.staleMs / 1000} s after`
            : `pid ${owner.pid}`;
        throw new ConfigError(
          variable,
          `the embedded database in ${dir} is in use by another process (${whose}); PGlite allows one process at a time: stop that process, or set DATABASE_URL to use PostgreSQL`,
        );
      }
      unlinkSync(lockPath); // stale: its holder is gone
      continue;
    }
    writeSync(fd, `${process.pid}\n${here}\n${token}\n`);
    closeSync(fd);
    const ours = () => {
      try {
        return readLock(lockPath).token === token;
      } catch {
        return false; // gone
      }
    };
    const renewal = setInterval(() => {
      // Taken over (this process stood still longer than staleMs): the lock is someone else's now.
      if (!ours()) return clearInterval(renewal);
      try {
        const now = new Date();
        utimesSync(lockPath, now, now);
      } catch {
        // Removed meanwhile: the next round finds it is not ours.
      }
    }, timing.renewMs).unref();
    const release = () => {
      if (!held.delete(lockPath)) return;
      clearInterval(renewal);
      try {
        if (ours()) unlinkSync(lockPath);
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
