// `npm start`: the compiled server (bundled into dist/bundle/main.js), with Node's module compile cache switched on
// before anything else loads, so every start after the first skips compiling the server's modules.
import './node-version.js'; // first: an older Node stops here, in one line
import { accessSync, constants } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';

// Ours come after the check above: bundled, a static import would be evaluated before it.
const [{ wasmBaselineOnly }, { projectRoot }] = await Promise.all([import('./config.js'), import('./paths.js')]);

// glibc's per-thread arenas keep the blocks V8's optimizing compilers free (up to 32 KB each, some
// 20 MB of a loaded server) unless blocks that size are mapped singly — a setting glibc reads only
// at process start. So on Linux, unless it is set already, the process re-executes itself once
// with it (same process id, same arguments), however it was started. A failed execve aborts the
// process, so only a binary known to be executable is run: /proc/self/exe, this very one even if
// its file was replaced since (an upgrade in place); without /proc the server runs as it is.
// The same re-execution adds --liftoff-only on the embedded database (config.ts says why), a V8
// flag that only the command line sets.
const v8Flags = wasmBaselineOnly() && !process.execArgv.includes('--liftoff-only') ? ['--liftoff-only'] : [];
if (process.platform === 'linux' && (process.env.MALLOC_MMAP_THRESHOLD_ === undefined || v8Flags.length > 0) && process.execve && executable('/proc/self/exe')) {
  process.execve('/proc/self/exe', [process.execPath, ...v8Flags, ...process.execArgv, ...process.argv.slice(1)], {
    ...process.env,
    MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '32768',
  });
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Beside the project's other build caches; Node falls back to running uncached if it cannot write there.
module.enableCompileCache?.(join(projectRoot, 'node_modules', '.cache', 'sessiongraph', 'compile'));
await import('./start.js');
