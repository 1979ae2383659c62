// Every test file gets databases of its own: a fresh in-memory PGlite always, and a fresh PostgreSQL
// database when TEST_DATABASE_URL names a server (CI sets it). Tests never see each other's rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database, type DatabaseOptions } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';

export interface TestDatabase {
  db: Database;
  /** SQL statements Prisma sent since the last `reset`. */
  queries: string[];
  /** The PostgreSQL database's URL, for a client of the test's own (undefined on PGlite). */
  url?: string;
  dispose(): Promise<void>;
}

export interface DatabaseTarget {
  name: 'pglite' | 'postgres';
  /** Opens a new, empty database; `migrate: false` leaves it without tables. */
  open(options?: { migrate?: boolean } & DatabaseOptions): Promise<TestDatabase>;
}

const serverUrl = process.env.TEST_DATABASE_URL;

/** A URL for a new empty database on the TEST_DATABASE_URL server, and a way to drop it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `sessiongraph_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function prepare(
  db: Database,
  queries: string[],
  migrate: boolean,
  dispose: () => Promise<void>,
): Promise<TestDatabase> {
  if (migrate) await applyMigrations(db.adapterFactory);
  return { db, queries, dispose };
}

export const pgliteTarget: DatabaseTarget = {
  name: 'pglite',
  async open({ migrate = true, onQuery } = {}) {
    const queries: string[] = [];
    // Unmigrated means truly empty: not the migrated template new databases start from.
    const db = await openDatabase(
      { kind: 'pglite', dataDir: 'memory://' },
      { onQuery: (sql) => (queries.push(sql), onQuery?.(sql)), fromTemplate: migrate },
    );
    return prepare(db, queries, migrate, () => db.close());
  },
};

export const postgresTarget: DatabaseTarget = {
  name: 'postgres',
  async open({ migrate = true, onQuery } = {}) {
    const queries: string[] = [];
    const created = await createPostgresDatabase();
    const db = await openDatabase(
      { kind: 'postgres', url: created.url, poolSize: 5, connectTimeoutMs: 5000 },
      { onQuery: (sql) => (queries.push(sql), onQuery?.(sql)) },
    );
    const prepared = await prepare(db, queries, migrate, async () => {
      await db.close();
      await created.drop();
    });
    return { ...prepared, url: created.url };
  },
};

/** The databases this run tests against: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const databaseTargets: DatabaseTarget[] = serverUrl ? [pgliteTarget, postgresTarget] : [pgliteTarget];
