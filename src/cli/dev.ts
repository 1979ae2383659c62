// npm run dev: development's watch mode. The TypeScript compiler watches src/ and rewrites dist/;
// once its first build is done the server runs from dist/ under `node --watch`, which restarts it
// (a graceful stop first, so the embedded database closes) whenever a file it loaded changes.
// `npm start` never compiles: the build belongs to install and to this mode.
import '../node-version.js'; // first: an older Node stops here, in one line
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { projectRoot } from '../paths.js';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiler = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput'], {
  cwd: projectRoot,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let server: ChildProcess | undefined;

compiler.stdout!.on('data', (chunk: Buffer) => {
  process.stderr.write(chunk); // the compiler's report, kept apart from the server's JSON log lines
  // tsc -w ends each build with "Found N errors. Watching for file changes."
  if (!server && chunk.toString().includes('Watching for file changes')) {
    server = spawn(process.execPath, ['--watch', '--watch-preserve-output', join('dist', 'main.js')], {
      cwd: projectRoot,
      // Set here so the server does not re-execute itself for glibc (see src/main.ts): the watcher
      // follows the process it started.
      env: { MALLOC_MMAP_THRESHOLD_: '32768', ...process.env },
      stdio: 'inherit',
    });
    server.on('exit', (code) => stop(code ?? 0));
  }
});
compiler.on('exit', (code) => stop(code ?? 1));

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  compiler.kill('SIGTERM');
  if (server && server.exitCode === null) {
    server.once('exit', () => process.exit(code));
    server.kill('SIGTERM');
  } else {
    process.exit(code);
  }
}
// Ctrl-C reaches the whole process group; the children stop on their own, this waits for them.
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
