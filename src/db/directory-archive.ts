// A directory as one file, and back: how the embedded database's template is kept. A new PGlite
// data directory is 25 MB in 466 files, a third of it pages of zeros (the unused end of the WAL
// segment, free space in the catalogs); only the pages with data are kept, and they come back as
// holes. The format is ours and simple, uncompressed (decompressing 25 MB cost more than the few
// megabytes saved): a magic line and the number of entries (u32); for each entry, its relative
// path's length (u16) and bytes (a directory's ends in "/"), its size (u32), its number of runs of
// data (u32) and each run's offset and length (u32 each), then the runs' bytes; last, the CRC-32 of
// everything before it (u32), so a damaged or cut file is refused before anything is written.
// directory-unpack.ts writes it back.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import zlib from 'node:zlib';
import { archiveMagic, pageSize } from './directory-unpack.js';

function filesBelow(root: string, dir = root): string[] {
  return readdirSync(join(dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return [relative(root, path) + '/', ...filesBelow(root, path)];
    return entry.isFile() ? [relative(root, path)] : [];
  });
}

const zeroPage = Buffer.alloc(pageSize);

/** The [offset, end) runs of `content` that are not pages of zeros. */
function dataRuns(content: Buffer): [number, number][] {
  const runs: [number, number][] = [];
  for (let offset = 0; offset < content.length; offset += pageSize) {
    const end = Math.min(offset + pageSize, content.length);
    if (content.subarray(offset, end).equals(zeroPage.subarray(0, end - offset))) continue;
    const last = runs.at(-1);
    if (last && last[1] === offset) last[1] = end;
    else runs.push([offset, end]);
  }
  return runs;
}

/** Packs every file and directory below `root` (empty directories too). */
export function packDirectory(root: string): Buffer {
  const paths = filesBelow(root);
  const count = Buffer.alloc(4);
  count.writeUInt32LE(paths.length);
  const parts: Buffer[] = [archiveMagic, count];
  for (const path of paths) {
    const name = Buffer.from(path);
    const content = path.endsWith('/') ? Buffer.alloc(0) : readFileSync(join(root, path));
    const runs = dataRuns(content);
    const header = Buffer.alloc(2 + name.length + 8 + runs.length * 8);
    header.writeUInt16LE(name.length, 0);
    name.copy(header, 2);
    header.writeUInt32LE(content.length, 2 + name.length);
    header.writeUInt32LE(runs.length, 6 + name.length);
    runs.forEach(([start, end], index) => {
      header.writeUInt32LE(start, 10 + name.length + index * 8);
      header.writeUInt32LE(end - start, 14 + name.length + index * 8);
    });
    parts.push(header, ...runs.map(([start, end]) => content.subarray(start, end)));
  }
  const body = Buffer.concat(parts);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(zlib.crc32(body));
  return Buffer.concat([body, crc]);
}
