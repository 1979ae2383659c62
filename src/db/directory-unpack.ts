// Writes what directory-archive.ts packed. The embedded database's thread runs it on a new data
// directory while PostgreSQL's WebAssembly compiles beside it, so it imports Node's modules only: it
// runs as plain JavaScript from dist/ and with Node's own type stripping under the tests.
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import zlib from 'node:zlib';

/** PostgreSQL's page: the unit in which zeros are left out of the archive. */
export const pageSize = 8192;
/** How a packed directory begins (directory-archive.ts has the format). */
export const archiveMagic = Buffer.from('sessiongraph packed directory 1\n');

/**
 * Writes the packed bytes (or the file that holds them) into `root`, which must not hold other
 * files of the same names; the pages of zeros left out become holes, which PostgreSQL reads as the
 * zeros they were. Synchronous: its caller is a thread with nothing else to do meanwhile.
 */
export function unpackDirectory(archive: Uint8Array | string, root: string): void {
  const file = typeof archive === 'string' ? readFileSync(archive) : Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const damaged = (why: string) => new Error(`${typeof archive === 'string' ? archive : 'the packed directory'} is damaged (${why}): rebuild it with npm run db:template`);
  if (file.length < archiveMagic.length + 8 || !file.subarray(0, archiveMagic.length).equals(archiveMagic)) throw damaged('not a packed directory of this version');
  const data = file.subarray(0, file.length - 4);
  if (zlib.crc32(data) !== file.readUInt32LE(file.length - 4)) throw damaged('its checksum does not match');
  const entries = data.readUInt32LE(archiveMagic.length);
  let entry = 0;
  const made = new Set<string>();
  const directory = (path: string) => {
    if (!made.has(path)) mkdirSync(path, { recursive: true });
    made.add(path);
  };
  directory(root);
  for (let offset = archiveMagic.length + 4; offset < data.length; entry++) {
    const nameLength = data.readUInt16LE(offset);
    const path = data.subarray(offset + 2, offset + 2 + nameLength).toString();
    const size = data.readUInt32LE(offset + 2 + nameLength);
    const runCount = data.readUInt32LE(offset + 6 + nameLength);
    const runs = offset + 10 + nameLength;
    offset = runs + runCount * 8;
    if (path.startsWith('/') || path.split('/').includes('..')) throw new Error(`archive entry escapes its directory: ${path}`);
    const target = join(root, path);
    if (path.endsWith('/')) {
      directory(target);
      continue;
    }
    directory(dirname(target));
    const fd = openSync(target, 'w');
    try {
      for (let run = 0; run < runCount; run++) {
        const at = data.readUInt32LE(runs + run * 8);
        const length = data.readUInt32LE(runs + run * 8 + 4);
        if (at + length > size || offset + length > data.length) throw new Error(`archive entry ${path} is cut short or overruns its size`);
        for (let written = 0; written < length; ) written += writeSync(fd, data, offset + written, length - written, at + written);
        offset += length;
      }
      if (size > 0) ftruncateSync(fd, size);
    } finally {
      closeSync(fd);
    }
  }
  if (entry !== entries) throw damaged(`${entry} entries where it says ${entries}`);
}

/**
 * Makes `directory` what the archive holds: written beside it and renamed into place, so a crash
 * mid-copy never leaves a half database that looks whole.
 */
export function unpackInto(archive: string, directory: string): void {
  const partial = `${directory}.${process.pid}.partial`;
  // Copies a killed process left (the caller holds the directory's lock: no other is in progress).
  const parent = dirname(directory);
  const prefix = `${basename(directory)}.`;
  const killedCopy = (name: string) => name.startsWith(prefix) && name.endsWith('.partial') && /^\d+$/.test(name.slice(prefix.length, -'.partial'.length));
  for (const name of readdirSync(parent).filter(killedCopy)) rmSync(join(parent, name), { recursive: true, force: true });
  try {
    unpackDirectory(archive, partial);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  rmSync(directory, { recursive: true, force: true }); // an empty or never-initialized leftover
  renameSync(partial, directory);
}
