// A directory as one compressed file, and back: how the embedded database's template is kept.
// PGlite's data directory is 40 MB in about a thousand files, mostly zeros; read back from a cold
// disk it costs a second, compressed (4 MB) a tenth of that. The format is ours and simple: for each
// file, its relative path's length (u16) and bytes, its size (u32) and bytes, in one zstd stream
// (it decompresses in 50 ms where gzip took 85).
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
// The default export, not named ones: Node before 22.15 has no zstd, and a missing named export
// fails the whole module graph at link time, before an older Node could be refused in one line.
import zlib from 'node:zlib';
import type { UnpackRequest, UnpackResult } from './unpack-worker.js';

function filesBelow(root: string, dir = root): string[] {
  return readdirSync(join(dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return [relative(root, path) + '/', ...filesBelow(root, path)];
    return entry.isFile() ? [relative(root, path)] : [];
  });
}

/** Packs every file and directory below `root` (empty directories too). */
export function packDirectory(root: string): Buffer {
  const parts: Buffer[] = [];
  for (const path of filesBelow(root)) {
    const name = Buffer.from(path);
    const content = path.endsWith('/') ? Buffer.alloc(0) : readFileSync(join(root, path));
    const header = Buffer.alloc(6);
    header.writeUInt16LE(name.length, 0);
    header.writeUInt32LE(content.length, 2);
    parts.push(header, name, content);
  }
  return zlib.zstdCompressSync(Buffer.concat(parts), { params: { [zlib.constants.ZSTD_c_compressionLevel]: 1 } });
}

/**
 * Writes what `packDirectory` packed into `root`, which must not hold other files of the same names.
 * `archive` is the packed bytes or the path of a file holding them, read on the thread. The thread
 * starts before this returns. On a thread of its own, with plain synchronous calls: creating a thousand files takes from a
 * fifth of a second to seconds on a busy disk, and meanwhile the main thread loads modules and
 * builds the schema. Written with the event loop's callbacks instead, the copy advanced only between
 * the main thread's tasks and finished about half a second later.
 */
export function unpackDirectory(archive: Uint8Array | string, root: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: { archive, root } satisfies UnpackRequest });
    worker.once('message', (message: UnpackResult) => (message.error === undefined ? resolve() : reject(new Error(message.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the unpacking thread stopped (exit code ${code})`)));
  });
}

// The thread's module sits beside this one: compiled JavaScript in dist/, or its TypeScript source
// under the tests' transpiler (Node 24 strips the types itself).
const workerFile = new URL(`./unpack-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
