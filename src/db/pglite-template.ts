// A new embedded database starts from a template — an initialized PGlite data directory with every
// migration applied, made once per migration history — instead of running initdb and the
// migrations (about 3 s). On disk the template is the data directory packed into one compressed file
// and unpacked into place by the database's thread (0.1–0.2 s, while PostgreSQL's WebAssembly compiles); in memory (tests) a dump that PGlite loads (0.7 s). The install
// step builds both (npm run db:template); without them, a database is initialized the slow way and
// still correct.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { projectRoot } from '../paths.js';
import { packDirectory } from './directory-archive.js';
import { applyMigrations, readMigrationHistory } from './migrations.js';

const cacheDir = join(projectRoot, 'node_modules/.cache/sessiongraph');

// Part of the template's name: a template made another way is built anew.
const templateRecipe = 'postgres database only';

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
  return templatePath().replace(/\.tar$/, '.dir.zst');
}

/** The packed data directory a new directory is unpacked from (directory-unpack.ts), when it has been built. */
export function packedTemplate(): string | undefined {
  const packed = packedTemplatePath();
  return existsSync(packed) ? packed : undefined;
}

/** Templates of earlier migration histories (or recipes) serve nothing now: 30-45 MB each. */
function removeOtherTemplates(current: string): void {
  const keep = basename(current, '.tar');
  for (const name of readdirSync(cacheDir)) {
    if (/^pglite-template-[0-9a-f]{16}\.(tar|dir\.zst)$/.test(name) && !name.startsWith(`${keep}.`)) rmSync(join(cacheDir, name), { force: true });
  }
}

/** Builds the templates (dump and packed directory) for the current migrations unless they exist; returns the dump's path. */
export async function buildTemplate(): Promise<string> {
  const path = templatePath();
  const packed = packedTemplatePath();
  if (existsSync(path) && existsSync(packed)) {
    removeOtherTemplates(path);
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
    writeFileSync(`${packed}.${process.pid}.partial`, packDirectory(directory));
    renameSync(`${packed}.${process.pid}.partial`, packed);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  removeOtherTemplates(path);
  return path;
}
