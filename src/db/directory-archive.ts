// A directory as one gzipped file, and back: how the embedded database's template is kept. PGlite's
// data directory is 40 MB in about a thousand files, mostly zeros; read back from a cold disk it
// costs a second, gzipped (5 MB) a tenth of that. The format is ours and simple: for each file, its
// relative path's length (u16) and bytes, its size (u32) and bytes, in one gzip stream.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join, relative } from 'node:path';
import { gunzip, gzipSync } from 'node:zlib';

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
  return gzipSync(Buffer.concat(parts), { level: 1 });
}

/**
 * Writes what `packDirectory` packed into `root`, which must not hold other files of the same names.
 * Asynchronous, a few files at a time on libuv's threads: creating a thousand files takes from a
 * fifth of a second to seconds on a busy disk, and the server builds its schema and starts
 * listening meanwhile instead of waiting for the disk.
 */
export async function unpackDirectory(archive: Buffer, root: string): Promise<void> {
  const data = await promisify(gunzip)(archive);
  const directories = new Set([root]);
  const files: [string, Buffer][] = [];
  for (let offset = 0; offset < data.length; ) {
    const nameLength = data.readUInt16LE(offset);
    const size = data.readUInt32LE(offset + 2);
    const path = data.subarray(offset + 6, offset + 6 + nameLength).toString();
    const content = data.subarray(offset + 6 + nameLength, offset + 6 + nameLength + size);
    offset += 6 + nameLength + size;
    if (path.startsWith('/') || path.split('/').includes('..')) throw new Error(`archive entry escapes its directory: ${path}`);
    const target = join(root, path);
    if (path.endsWith('/')) directories.add(target);
    else {
      directories.add(dirname(target));
      files.push([target, content]);
    }
  }
  for (const directory of directories) await mkdir(directory, { recursive: true });
  let next = 0;
  const writer = async () => {
    while (next < files.length) {
      const [target, content] = files[next++]!;
      await writeFile(target, content);
    }
  };
  // As many writers as libuv has threads (4 by default): more would only queue there.
  await Promise.all(Array.from({ length: 4 }, writer));
}
