// The build's second step (npm run build, after tsc): the server as a few bundled files in
// dist/bundle/, which `npm start` runs. Unbundled, a start resolves, reads and links about 1,200
// modules, most of them small files of graphql-yoga's and graphql-tools' — a third of the time to
// the first answer. Dynamic imports stay chunk boundaries, so what the server loads lazily (and the
// layers start.ts loads one by one) stays apart. Built from tsc's output, so the code is the same
// JavaScript the tests and the command-line tools run.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { projectRoot } from '../paths.js';

const dist = join(projectRoot, 'dist');
const outdir = join(dist, 'bundle');

// Left to Node: packages that find files of their own beside their modules (WebAssembly, data);
// some loaded only when configured or asked for (Redis, OpenTelemetry's SDK, the GraphiQL page),
// which a start does not load either way — and ioredis's CommonJS exports read differently
// bundled; and optional native add-ons that are not installed. Nothing left out may import
// graphql: a second copy of it refuses the bundle's schema ("from another module or realm").
const external = [
  '@electric-sql/pglite',
  'pglite-prisma-adapter',
  '@prisma/client',
  '@prisma/schema-engine-wasm',
  '@graphql-yoga/render-graphiql',
  'ioredis',
  '@opentelemetry/*',
  'pg-native',
  'bufferutil',
  'utf-8-validate',
];

// Node's own modules are loaded with require(), not import. An import makes an ES module facade of the
// builtin, which reads every export — and node:http's lazy `WebSocket` getters load undici, Node's
// fetch: some 45 ms of the main thread on every start, for a class the server never uses. esbuild
// still checks the names imported (exports of a CommonJS module are read when used).
const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(build) {
    // One small module per importing file, so that no chunk exists only to hold a shared one.
    build.onResolve({ filter: /^[\w:/]+$/ }, ({ path, kind, importer }) =>
      kind === 'import-statement' && isBuiltin(path) ? { path: `${path} for ${relative(dist, importer)}`, namespace: 'builtin-by-require', pluginData: path } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin-by-require' }, ({ pluginData }) => ({ contents: `module.exports = require(${JSON.stringify(pluginData)});`, loader: 'js' }));
  },
};

const { outputFiles } = await build({
  // The embedded database's thread, the module it loads to make a new directory and the thread that makes the spare copy again sit beside the chunk that starts it, as in dist/db/.
  entryPoints: {
    main: join(dist, 'main.js'),
    'pglite-worker': join(dist, 'db/pglite-worker.js'),
    'directory-unpack': join(dist, 'db/directory-unpack.js'),
    'spare-copy-thread': join(dist, 'db/spare-copy-thread.js'),
  },
  outdir,
  write: false,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  external,
  // CommonJS packages inside an ES module bundle still call require() for Node's own modules.
  banner: { js: "import { createRequire as __sessiongraphRequire } from 'node:module'; const require = __sessiongraphRequire(import.meta.url);" },
  plugins: [builtinsByRequire],
  logLevel: 'warning',
});

// A server may be running from dist/bundle/ while the build runs again (a test beside others, a
// developer's `npm run build`): a file it still has to load must never be missing or half written.
// So only changed files are written, each beside its place and renamed into it; an unchanged build
// touches nothing. Chunks of earlier builds are removed last.
mkdirSync(outdir, { recursive: true });
const written = new Set<string>();
for (const file of outputFiles) {
  const name = relative(outdir, file.path);
  written.add(name);
  if (existsSync(file.path) && readFileSync(file.path).equals(file.contents)) continue;
  const partial = `${file.path}.${process.pid}.partial`;
  writeFileSync(partial, file.contents);
  renameSync(partial, file.path);
}
for (const name of readdirSync(outdir)) if (!written.has(name) && !name.endsWith('.partial')) rmSync(join(outdir, name), { force: true });
