// Writes what directory-archive.ts packed, and keeps a spare copy of it to rename into place. The
// embedded database's thread runs it on a new data directory while PostgreSQL's WebAssembly compiles
// beside it, so it imports Node's modules only: it runs as plain JavaScript from dist/ and with
// Node's own type stripping under the tests.
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
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
  for (const { name } of partialCopies(directory)) rmSync(join(dirname(directory), name), { recursive: true, force: true });
  try {
    unpackDirectory(archive, partial);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  rmSync(directory, { recursive: true, force: true }); // an empty or never-initialized leftover
  renameSync(partial, directory);
}

/**
 * Makes `directory` the spare copy of the archive by renaming it, if there is one on the same file
 * system; false otherwise (another start took it, it is being made, or it is elsewhere). Creating a
 * file costs some file systems 0.2–0.4 ms (this machine's ext4): a new directory's 490 entries,
 * 0.2–0.4 s on the database's path to its first answer, where a rename takes microseconds.
 */
export function takeSpare(spare: string, directory: string): boolean {
  if (!existsSync(spare)) return false;
  try {
    rmSync(directory, { recursive: true, force: true }); // an empty or never-initialized leftover
    renameSync(spare, directory);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes the spare copy of the archive, unless there is one, beside it and renamed into place (a
 * reader sees all of it or none). Copies that ended processes left are removed first; one still in
 * progress in another process stays, and whichever finishes second finds the spare made.
 */
export function makeSpare(archive: string, spare: string): void {
  for (const { name, pid } of partialCopies(spare)) if (!running(pid)) rmSync(join(dirname(spare), name), { recursive: true, force: true });
  if (existsSync(spare)) return;
  const partial = `${spare}.${process.pid}.${threadId}.partial`;
  try {
    unpackDirectory(archive, partial);
    try {
      renameSync(partial, spare);
    } catch (error) {
      // Another process made it meanwhile (ENOTEMPTY: a directory is not renamed onto another).
      if (!existsSync(spare)) throw error;
    }
  } finally {
    rmSync(partial, { recursive: true, force: true }); // gone once renamed
  }
}

/** The copies being made, or left by a killed process, beside `path`: `<name>.<process id>[.<thread id>].partial`. */
function partialCopies(path: string): { name: string; pid: number }[] {
  const prefix = `${basename(path)}.`;
  return readdirSync(dirname(path)).flatMap((name) => {
    const ids = name.startsWith(prefix) && name.endsWith('.partial') ? /^(\d+)(\.\d+)?$/.exec(name.slice(prefix.length, -'.partial'.length)) : null;
    return ids ? [{ name, pid: Number(ids[1]) }] : [];
  });
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // someone else's
  }
}
