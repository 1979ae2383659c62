// A new embedded database starts from a template — an initialized PGlite data directory with every
// migration applied, dumped once per migration history — instead of running initdb and the
// migrations: about 1 s instead of about 3 s. The install step builds it (npm run db:template);
// without one, a database is initialized the slow way and still correct.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectRoot } from '../paths.js';
import { applyMigrations, readMigrationHistory } from './migrations.js';

const cacheDir = join(projectRoot, 'node_modules/.cache/sessiongraph');

/** The template file for the current migration history and PGlite version. */
export async function templatePath(): Promise<string> {
  const history = await readMigrationHistory();
  const hash = createHash('sha256');
  // The package has no ./package.json export: find its directory from its entry point.
  let pgliteDir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(pgliteDir, 'package.json'))) pgliteDir = dirname(pgliteDir);
  hash.update((JSON.parse(readFileSync(join(pgliteDir, 'package.json'), 'utf8')) as { version: string }).version);
  for (const migration of history.migrationDirectories) {
    hash.update(migration.path);
    hash.update(migration.migrationFile.content.tag === 'ok' ? migration.migrationFile.content.value : '');
  }
  return join(cacheDir, `pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
}

/** The template's bytes, or undefined when none was built for this migration history. */
export async function readTemplate(): Promise<Blob | undefined> {
  const path = await templatePath();
  return existsSync(path) ? new Blob([readFileSync(path)]) : undefined;
}

/** Builds the template for the current migrations unless it exists; returns its path. */
export async function buildTemplate(): Promise<string> {
  const path = await templatePath();
  if (existsSync(path)) return path;
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
  const pglite = await PGlite.create();
  try {
    await applyMigrations(new PrismaPGlite(pglite));
    // Uncompressed: 40 MB in the cache, but it loads in 0.7 s where the gzipped one takes 1 s.
    const dump = await pglite.dumpDataDir('none');
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, path); // atomic: a reader sees the whole file or none
  } finally {
    await pglite.close();
  }
  return path;
}
