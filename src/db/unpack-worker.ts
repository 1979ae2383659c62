// The thread that writes an unpacked directory (directory-archive.ts says why it has a thread of its
// own). Node's modules only: it runs as plain JavaScript from dist/ and with Node's own type
// stripping under the tests.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import zlib from 'node:zlib';

export interface UnpackRequest {
  /** The packed bytes, or the path of the file that holds them. */
  archive: Uint8Array | string;
  root: string;
}
export interface UnpackResult {
  error?: string;
}

function unpack({ archive, root }: UnpackRequest): void {
  const data = zlib.zstdDecompressSync(typeof archive === 'string' ? readFileSync(archive) : archive);
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

if (parentPort) {
  let result: UnpackResult = {};
  try {
    unpack(workerData as UnpackRequest);
  } catch (error) {
    result = { error: (error as Error).message };
  }
  parentPort.postMessage(result);
}
