// `npm start`: the compiled server (bundled into dist/bundle/main.js), with Node's module compile cache switched on
// before anything else loads, so every start after the first skips compiling the server's modules.
import './node-version.js'; // first: an older Node stops here, in one line
import { accessSync, constants } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import v8 from 'node:v8';
import type { EarlyStart } from './start.js';

// Ours come after the check above: bundled, a static import would be evaluated before it.
const [{ loadConfig, wasmBaselineOnly }, { projectRoot }] = await Promise.all([import('./config.js'), import('./paths.js')]);

// glibc's per-thread arenas keep the blocks V8's optimizing compilers free (up to 32 KB each, some
// 20 MB of a loaded server) unless blocks that size are mapped singly — a setting glibc reads only
// at process start. `npm start` sets it in the environment; otherwise (unset or empty), on Linux, the process
// re-executes itself once with it (same process id, same arguments, some 60 ms), however it was
// started. A failed execve aborts the process, so only a binary known to be executable is run:
// /proc/self/exe, this very one even if its file was replaced since (an upgrade in place); without
// /proc the server runs as it is.
if (process.platform === 'linux' && !process.env.MALLOC_MMAP_THRESHOLD_ && process.execve && executable('/proc/self/exe')) {
  process.execve('/proc/self/exe', [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, MALLOC_MMAP_THRESHOLD_: '32768' });
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// WebAssembly on V8's baseline compiler alone on the embedded database (config.ts says why). The
// command line's --liftoff-only would be read only at process start; what it implies, set now,
// before anything is compiled, has the same effect (the peak stays some 270 MB lower).
if (wasmBaselineOnly()) for (const flag of ['--no-wasm-tier-up', '--no-wasm-dynamic-tiering']) v8.setFlagsFromString(flag);

// Beside the project's other build caches; Node falls back to running uncached if it cannot write there.
module.enableCompileCache?.(join(projectRoot, 'node_modules', '.cache', 'sessiongraph', 'compile'));

// The embedded database's first steps (its directory locked, a new one's copy, its thread and
// PostgreSQL's WebAssembly compiling) are taken now, before the server's modules load: PostgreSQL's
// start is the longer of the two paths to a first data answer. A bad setting is left to start.ts to report.
let early: EarlyStart | undefined;
try {
  const config = loadConfig();
  early = { config };
  if (config.database.kind === 'pglite') early.embedded = (await import('./db/embedded-start.js')).startEmbeddedDatabase(config.database);
} catch (error) {
  if (early) early.embeddedFailure = error;
}
(await import('./start.js')).startServer(early);
