// Writes what directory-archive.ts packed. The embedded database's thread runs it on a new data
// directory while PostgreSQL's WebAssembly compiles beside it, so it imports Node's modules only: it
// runs as plain JavaScript from dist/ and with Node's own type stripping under the tests.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import zlib from 'node:zlib';

/**
 * Writes the packed bytes (or the file that holds them) into `root`, which must not hold other
 * files of the same names. Synchronous: its caller is a thread with nothing else to do meanwhile.
 */
export function unpackDirectory(archive: Uint8Array | string, root: string): void {
  // Decompressed a megabyte at a time: with the default 16 KB the 26 MB of a data directory took 80–160 ms, with this 15–20.
  const data = zlib.zstdDecompressSync(typeof archive === 'string' ? readFileSync(archive) : archive, { chunkSize: 1 << 20 });
  const made = new Set<string>();
  const directory = (path: string) => {
    if (!made.has(path)) mkdirSync(path, { recursive: true });
    made.add(path);
  };
  directory(root);
  for (let offset = 0; offset < data.length; ) {
    const nameLength = data.readUInt16LE(offset);
    const size = data.readUInt32LE(offset + 2);
    const path = data.subarray(offset + 6, offset + 6 + nameLength).toString();
    const content = data.subarray(offset + 6 + nameLength, offset + 6 + nameLength + size);
    offset += 6 + nameLength + size;
    if (path.startsWith('/') || path.split('/').includes('..')) throw new Error(`archive entry escapes its directory: ${path}`);
    const target = join(root, path);
    if (path.endsWith('/')) directory(target);
    else {
      directory(dirname(target));
      writeFileSync(target, content);
    }
  }
}

/**
 * Makes `directory` what the archive holds: written beside it and renamed into place, so a crash
 * mid-copy never leaves a half database that looks whole.
 */
export function unpackInto(archive: string, directory: string): void {
  const partial = `${directory}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  try {
    unpackDirectory(archive, partial);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  rmSync(directory, { recursive: true, force: true }); // an empty or never-initialized leftover
  renameSync(partial, directory);
}
