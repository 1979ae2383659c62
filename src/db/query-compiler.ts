// Prisma's generated client loads its query compiler (WebAssembly) from an ES module whose one
// export is the binary as a base64 string (2.3 MB for the small build). ES modules are never
// unloaded, so that string and the module's source text beside it stayed in memory for the life of
// the process — 8 MB of the server's resident memory for bytes needed once. The package ships the
// same string as a CommonJS file: read as plain text and decoded, it leaves nothing behind.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** The part of Prisma's engine configuration that says how to get the query compiler. */
interface CompilerWasm {
  /** `./query_compiler_<build>_bg.js`, the name the compiler's module imports itself by. */
  importName: string;
  getQueryCompilerWasmModule(): Promise<WebAssembly.Module>;
}

const require = createRequire(import.meta.url);
// Every client of the generated class shares one configuration: it is changed once.
const changed = new WeakSet<CompilerWasm>();
const prefix = 'const wasm = "';

/** The compiler's bytes from the package's CommonJS copy of the base64 module, for one build and provider. */
export async function readQueryCompilerWasm(importName: string, provider: string): Promise<Uint8Array<ArrayBuffer>> {
  const build = /^\.\/(query_compiler_[a-z]+_bg)\.js$/.exec(importName)?.[1];
  if (!build || !/^[a-z]+$/.test(provider)) throw new Error(`unexpected query compiler ${importName} for ${provider}`);
  const path = require.resolve(`@prisma/client/runtime/${build}.${provider}.wasm-base64.js`);
  const text = await readFile(path, 'latin1');
  const end = text.indexOf('"', prefix.length);
  if (!text.startsWith(prefix) || end < 0) throw new Error(`${path} is not the base64 module this code reads`);
  return Buffer.from(text.slice(prefix.length, end), 'base64');
}

/**
 * Makes a Prisma client load its query compiler from the plain file (once per process; Prisma
 * caches the compiled module). The configuration is the client's own, not a public API: if a
 * Prisma upgrade changes it, the client keeps loading the compiler its own way.
 */
export function loadQueryCompilerFromFile(client: object): void {
  const config = (client as { _engineConfig?: { compilerWasm?: CompilerWasm; activeProvider?: string } })._engineConfig;
  const compiler = config?.compilerWasm;
  if (!compiler || typeof compiler.getQueryCompilerWasmModule !== 'function' || !config.activeProvider) return;
  if (changed.has(compiler)) return;
  changed.add(compiler);
  const provider = config.activeProvider;
  const viaModule = compiler.getQueryCompilerWasmModule;
  // Compiled now, asynchronously — on V8's background threads, while the server's modules load and
  // the database opens — rather than on the main thread at the first query, where it would delay
  // the first answer that needs Prisma by a few hundred milliseconds.
  const compiling = readQueryCompilerWasm(compiler.importName, provider).then(
    (bytes) => WebAssembly.compile(bytes),
    () => undefined,
  );
  compiling.catch(() => {}); // a failure falls back below, when the module is asked for
  compiler.getQueryCompilerWasmModule = async () => (await compiling.catch(() => undefined)) ?? viaModule.call(compiler);
}
