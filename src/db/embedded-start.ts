// The embedded database's first steps, taken as soon as the configuration is known: the data
// directory locked and the database's thread started (it copies a new directory's template before
// PostgreSQL starts). The server takes them before it loads its modules (main.ts), so PostgreSQL's
// start on its thread runs beside that; openDatabase takes them itself when given none.
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { defaultEmbeddedSharedBuffers, type DatabaseConfig } from '../config.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { packedTemplate, spareTemplate, templatePath } from './pglite-template.js';
import { startPGliteThread, type PGliteClient } from './pglite-thread.js';
import type { ThreadWarning } from './pglite-worker.js';

export type EmbeddedConfig = Extract<DatabaseConfig, { kind: 'pglite' }>;

export interface EmbeddedStart {
  readonly config: EmbeddedConfig;
  /** Resolves with the open database's client; rejects with PGlite's reason (the lock then released). */
  readonly opened: Promise<PGliteClient>;
  /** Releases the data directory (after the client has closed, or when it never opened). */
  release(): void;
  /** For a start that failed before openDatabase took these steps over: closes what opened, releases the directory. */
  abandon(): Promise<void>;
  /** Hands the database thread's warnings (a spare copy it could not make) to `listener`. */
  onWarning(listener: (warning: ThreadWarning) => void): void;
}

/**
 * PostgreSQL creates postmaster.pid, then writes it: a process ended between the two (killed, or
 * stopped twice while starting) leaves it empty, and PostgreSQL then refuses to start ("lock file
 * is empty"). A non-empty one PGlite's PostgreSQL takes as its own (its pid is always the same).
 * Our lock is held: no other process uses the directory, so an empty one is a crash's remnant.
 */
function removeEmptyPostmasterPid(directory: string): void {
  const path = join(directory, 'postmaster.pid');
  try {
    if (statSync(path).size === 0) unlinkSync(path);
  } catch {
    // None: nothing to remove.
  }
}

/** `memory://` gives a throwaway in-memory database (tests); any other value is a directory. */
export function startEmbeddedDatabase(config: EmbeddedConfig, { fromTemplate = true } = {}): EmbeddedStart {
  const { dataDir, sharedBuffers = defaultEmbeddedSharedBuffers } = config;
  const inMemory = dataDir.startsWith('memory://');
  const lock: DataDirLock | undefined = inMemory ? undefined : lockDataDir(dataDir);
  const directory = inMemory ? undefined : join(dataDir, 'pglite');
  const useTemplate = fromTemplate && (!directory || !existsSync(join(directory, 'PG_VERSION')));
  if (directory && !useTemplate) removeEmptyPostmasterPid(directory);
  // A new directory is made by the database's thread itself, while its WebAssembly compiles: the
  // template's spare copy renamed into place, or the packed template unpacked; without one (in
  // memory, or not built), PGlite loads the dump if there is one.
  const packed = directory && useTemplate ? packedTemplate() : undefined;
  const dump = useTemplate && !packed ? templatePath() : undefined;
  const thread = startPGliteThread({ directory, settings: [`shared_buffers=${sharedBuffers}`], ...(packed ? { template: packed, spare: spareTemplate() } : {}) });
  const opened = (async () => {
    try {
      return await thread.open({ loadDataDirFrom: dump && existsSync(dump) ? dump : undefined });
    } catch (error) {
      await thread.terminate();
      lock?.release();
      throw error;
    }
  })();
  opened.catch(() => {}); // awaited by openDatabase; a start abandoned before that reports nothing twice
  const release = () => lock?.release();
  // Abandoned because the start failed: that failure is the one to report, not a failed close.
  const abandon = () => opened.then((client) => client.close(), () => {}).catch(() => {}).finally(release);
  return { config, opened, release, abandon, onWarning: (listener) => thread.onWarning(listener) };
}
