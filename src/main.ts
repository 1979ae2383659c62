// `npm start`: the compiled server (dist/main.js), with Node's module compile cache switched on
// before anything else loads, so every start after the first skips compiling the server's modules.
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Beside the project's other build caches; Node falls back to running uncached if it cannot write there.
module.enableCompileCache?.(join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.cache', 'sessiongraph', 'compile'));
await import('./start.js');
