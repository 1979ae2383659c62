// A new embedded database starts from a template — an initialized PGlite data directory with every
// migration applied, made once per migration history — instead of running initdb and the
// migrations (about 3 s). On disk the template is the data directory packed into one file, its
// pages of zeros left out (9 MB), and unpacked into place by the database's thread while
// PostgreSQL's WebAssembly compiles — or, quicker, a spare unpacked copy renamed into place and made
// again after; in memory (tests) a dump that PGlite loads (0.7 s). The install step builds them
// (npm run db:template); without them, a database is initialized the slow way and still correct.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { projectRoot } from '../paths.js';
import { packDirectory } from './directory-archive.js';
import { makeSpare } from './directory-unpack.js';
import { applyMigrations, readMigrationHistory } from './migrations.js';

const cacheDir = join(projectRoot, 'node_modules/.cache/sessiongraph');

// Part of the template's name: a template made another way is built anew.
const templateRecipe = 'postgres database only, WAL before its checkpoint zeroed, packed without pages of zeros, checksummed';

// PostgreSQL's template databases serve CREATE DATABASE alone, which the embedded server never
// runs; without them a new directory is 466 files instead of 1,092, half the time to write.
const dropTemplateDatabases = [
  'ALTER DATABASE template0 IS_TEMPLATE false',
  'DROP DATABASE template0',
  'ALTER DATABASE template1 IS_TEMPLATE false',
  'DROP DATABASE template1',
  'CHECKPOINT',
];

/** The template file for the current migration history and PGlite version (read synchronously: a few small files). */
export function templatePath(): string {
  const history = readMigrationHistory();
  const hash = createHash('sha256');
  // The package has no ./package.json export: find its directory from its entry point.
  let pgliteDir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(pgliteDir, 'package.json'))) pgliteDir = dirname(pgliteDir);
  hash.update((JSON.parse(readFileSync(join(pgliteDir, 'package.json'), 'utf8')) as { version: string }).version);
  hash.update(templateRecipe);
  for (const migration of history.migrationDirectories) {
    hash.update(migration.path);
    hash.update(migration.migrationFile.content.tag === 'ok' ? migration.migrationFile.content.value : '');
  }
  return join(cacheDir, `pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
}

/** The packed data directory for the current migration history (built beside the dump). */
function packedTemplatePath(): string {
  return templatePath().replace(/\.tar$/, '.dir');
}

/** The packed data directory a new directory is unpacked from (directory-unpack.ts), when it has been built. */
export function packedTemplate(): string | undefined {
  const packed = packedTemplatePath();
  return existsSync(packed) ? packed : undefined;
}

/** Where the packed template's spare unpacked copy is kept (directory-unpack.ts, takeSpare). */
export function spareTemplate(): string {
  return templatePath().replace(/\.tar$/, '.spare');
}

/**
 * Zeroes the WAL that precedes the last checkpoint of a cleanly shut down data directory: the
 * records of initdb and the migrations, half of the 16 MB segment. After a clean shutdown
 * PostgreSQL reads the WAL from that checkpoint on, and the segment's first page for its header;
 * nothing before it is read again (no archive, no replica). Zeros are then holes in a new directory
 * (directory-unpack.ts), so this is some 8 MB less to write on every first start.
 */
export function zeroWalBeforeCheckpoint(directory: string): void {
  const control = readFileSync(join(directory, 'global/pg_control'));
  // ControlFileData: state (DBState) at byte 16, then the checkpoint's location and its copy, whose
  // first fields are the redo point and the timeline.
  if (control.readUInt32LE(16) !== shutDownState) throw new Error(`${directory} was not shut down cleanly`);
  const redo = control.readBigUInt64LE(40);
  const timeline = control.readUInt32LE(48);
  const segmentSize = 16n * 1024n * 1024n; // PGlite's WAL segments
  const segment = join(directory, 'pg_wal', walSegmentName(timeline, redo / segmentSize));
  const redoPage = Number(redo % segmentSize) & ~(walPageSize - 1);
  if (redoPage <= walPageSize) return;
  const fd = openSync(segment, 'r+');
  try {
    const zeros = Buffer.alloc(redoPage - walPageSize);
    for (let at = 0; at < zeros.length; ) at += writeSync(fd, zeros, at, zeros.length - at, walPageSize + at);
  } finally {
    closeSync(fd);
  }
}

const shutDownState = 1; // DB_SHUTDOWNED
const walPageSize = 8192;

/** A WAL segment's file: its timeline, then the segment number as log and segment within it (256 segments of 16 MB a log). */
function walSegmentName(timeline: number, segment: bigint): string {
  const hex = (value: bigint) => value.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(BigInt(timeline))}${hex(segment / 256n)}${hex(segment % 256n)}`;
}

/** Templates of earlier migration histories (or recipes) serve nothing now: about 45 MB each (the dump, the packed directory, its spare copy). */
function removeOtherTemplates(current: string): void {
  const keep = basename(current, '.tar');
  for (const name of readdirSync(cacheDir)) {
    if (/^pglite-template-[0-9a-f]{16}\.(tar|dir|dir\.zst|spare)$/.test(name) && !name.startsWith(`${keep}.`)) rmSync(join(cacheDir, name), { recursive: true, force: true });
  }
}

/** Builds the templates (dump and packed directory) for the current migrations unless they exist; returns the dump's path. */
export async function buildTemplate(): Promise<string> {
  const path = templatePath();
  const packed = packedTemplatePath();
  if (existsSync(path) && existsSync(packed)) {
    removeOtherTemplates(path);
    makeSpare(packed, spareTemplate());
    return path;
  }
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
  mkdirSync(cacheDir, { recursive: true });
  const pglite = await PGlite.create();
  let dump: Blob;
  try {
    await applyMigrations(new PrismaPGlite(pglite));
    for (const statement of dropTemplateDatabases) await pglite.exec(statement);
    // Uncompressed: 40 MB in the cache, but it loads in 0.7 s where the gzipped one takes 1 s.
    dump = await pglite.dumpDataDir('none');
  } finally {
    await pglite.close();
  }
  // Each is written beside its final place and renamed: a reader sees all of one or none.
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, path);
  const directory = `${packed}.${process.pid}.partial-dir`;
  rmSync(directory, { recursive: true, force: true });
  try {
    const onDisk = await PGlite.create(directory, { loadDataDir: dump });
    await onDisk.close();
    zeroWalBeforeCheckpoint(directory);
    writeFileSync(`${packed}.${process.pid}.partial`, packDirectory(directory));
    renameSync(`${packed}.${process.pid}.partial`, packed);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  removeOtherTemplates(path);
  makeSpare(packed, spareTemplate());
  return path;
}
