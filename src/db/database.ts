// The one place that decides which database sessiongraph talks to. Everything downstream gets a
// Database — a Prisma client, a migration-capable adapter and a health probe — and never learns
// whether it is the embedded PGlite or a PostgreSQL server.
import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { ConfigError, redactUrl, type DatabaseConfig } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { withSpan } from '../tracing.js';
import { startEmbeddedDatabase, type EmbeddedConfig, type EmbeddedStart } from './embedded-start.js';
import type { PGliteClient } from './pglite-thread.js';
import { loadQueryCompilerFromFile } from './query-compiler.js';

export interface Database {
  readonly prisma: PrismaClient;
  /** The adapter the migration engine connects through. */
  readonly adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** Where the data lives, for logs (no password). */
  readonly description: string;
  /** One connection (the embedded database): while a transaction is open, nothing else runs. */
  readonly oneConnection: boolean;
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  /**
   * A read straight to the driver, for statements built outside Prisma (planned reads). On
   * PostgreSQL it is a named prepared statement: parsed and planned once per connection.
   */
  read(text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * Statements straight to the driver on one connection, in one transaction (planned writes that
   * need a lock before they read): committed when `work` resolves, rolled back when it throws.
   * On the embedded database `copyFrom` is given too (the PostgreSQL driver has no COPY FROM).
   */
  transaction<T>(work: (query: Query, copyFrom?: CopyFrom) => Promise<T>): Promise<T>;
  /** The connection pool's use (PostgreSQL); undefined on the embedded database. */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  /** Finishes pending work and closes the database; safe to call twice. */
  close(): Promise<void>;
}

/** Begins every statement a planned write sends straight to the driver: a DBA sees in pg_stat_statements what they are; tests count them. */
export const plannedWriteMark = '/* sessiongraph planned write */';

/** A statement straight to the driver: its rows. */
export type Query = (text: string, params: readonly unknown[]) => Promise<Record<string, unknown>[]>;

/**
 * `COPY table (columns) FROM '/dev/blob'` with `rows` as its data (COPY text format, copy-text.ts):
 * no parameters to encode, nothing to plan, the rows written a page at a time.
 */
export type CopyFrom = (sql: string, rows: string) => Promise<void>;

/** The database is still being opened (the server answers schema requests meanwhile). */
export class DatabaseOpening extends Error {
  constructor() {
    super('the database is still opening');
  }
}

export interface DatabaseOptions {
  /** Called with the SQL of every statement Prisma sends, and with the parameters of those sent straight to the driver (tests count them; it costs Prisma a query log). */
  onQuery?: (sql: string, params?: readonly unknown[]) => void;
  /** Called with the time every statement took, measured at the driver (cheap: for metrics). */
  onStatement?: (seconds: number) => void;
  /** A new embedded database starts from the migrated template when one exists (default true). */
  fromTemplate?: boolean;
  /** The embedded database's first steps, taken early (start.ts); for any other database, ignored. */
  started?: EmbeddedStart;
}

// Columns no read path needs are left out of every query unless one selects them explicitly:
// secrets never travel by accident, and rows stay small.
const omit = {
  session: { tokenHash: true, encryptedSigningKey: true, vendorExtra: true },
  identity: { vendorExtra: true },
  credential: { config: true },
} as const;

/**
 * The statements' time, measured around the driver's own calls: no query log, no copies of
 * parameters. Each wrapped method is made once per object, not on every access.
 */
function timed<T extends object>(target: T, observe: (seconds: number) => void): T {
  const wrapped = new Map<PropertyKey, unknown>();
  const wrap = (property: PropertyKey, method: (...args: unknown[]) => unknown): unknown => {
    if (property === 'queryRaw' || property === 'executeRaw') {
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await withSpan('db.query', statementAttributes((args[0] as { sql?: string } | undefined)?.sql), () => method.apply(target, args) as Promise<unknown>);
        } finally {
          observe((performance.now() - started) / 1000);
        }
      };
    }
    // Connections and transactions run statements too.
    if (property === 'connect' || property === 'startTransaction') {
      return async (...args: unknown[]) => timed((await method.apply(target, args)) as object, observe);
    }
    return method.bind(target);
  };
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      let method = wrapped.get(property);
      if (!method) wrapped.set(property, (method = wrap(property, value as (...args: unknown[]) => unknown)));
      return method;
    },
  });
}

function createClient(factory: SqlMigrationAwareDriverAdapterFactory, options: DatabaseOptions): PrismaClient {
  const adapter = options.onStatement ? timed(factory, options.onStatement) : factory;
  const onQuery = options.onQuery;
  let client: object;
  if (onQuery) {
    const logged = new PrismaClient({ adapter, omit, log: [{ emit: 'event', level: 'query' }] });
    logged.$on('query', (event) => onQuery(event.query));
    client = logged;
  } else {
    client = new PrismaClient({ adapter, omit });
  }
  loadQueryCompilerFromFile(client);
  return client as unknown as PrismaClient;
}

/** A database call's span attributes: the statement's text (parameters are never in it). */
function statementAttributes(sql: string | undefined) {
  return { 'db.system.name': 'postgresql', 'db.query.text': (sql ?? '').slice(0, 2000) };
}

/** Reports a statement sent outside Prisma as Prisma's own are reported (the query log, the timer, a span). */
function observed<T>(options: DatabaseOptions, text: string, params: readonly unknown[], run: () => Promise<T>): Promise<T> {
  options.onQuery?.(text, params);
  const traced = () => withSpan('db.query', statementAttributes(text), run);
  if (!options.onStatement) return traced();
  const started = performance.now();
  return traced().finally(() => options.onStatement!((performance.now() - started) / 1000));
}

// Prepared statements stay on their connection until it closes: past this many distinct texts new
// ones run unnamed, so a client inventing query shapes cannot grow every backend without bound.
const maxPreparedStatements = 1000;

function statementNames(): (text: string) => string | undefined {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (!name && names.size < maxPreparedStatements) names.set(text, (name = `sg_${createHash('sha1').update(text).digest('base64url')}`));
    return name;
  };
}

function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/** The embedded database, from the steps `started` took (or taken now). */
async function openPGlite(config: EmbeddedConfig, options: DatabaseOptions): Promise<Database> {
  let started = options.started;
  if (!started) {
    started = startEmbeddedDatabase(config, { fromTemplate: options.fromTemplate });
    // A command line's database (the server hands its warnings to its log, start.ts).
    started.onWarning((warning) => process.stderr.write(`sessiongraph: ${warning.message} (${warning.error})\n`));
  }
  // Loaded only when used: a PostgreSQL deployment never pays for the embedded database's modules.
  const adapterModule = import('pglite-prisma-adapter');
  adapterModule.catch(() => {}); // awaited below
  const { dataDir } = config;
  let opened: PGliteClient | undefined;
  let adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  let prisma: PrismaClient;
  try {
    opened = await started.opened;
    // The adapter uses query, exec and transaction, which the thread's client answers as PGlite does.
    adapterFactory = new (await adapterModule).PrismaPGlite(opened as PGlite);
    prisma = createClient(adapterFactory, options);
  } catch (error) {
    // An open database is closed before its directory is let go: no second opening beside it.
    await opened?.close().catch(() => {});
    started.release();
    throw new ConfigError('DATA_DIR', `cannot open the embedded database in ${dataDir}: ${(error as Error).message}`);
  }
  const pglite = opened;
  return {
    prisma,
    adapterFactory,
    description: dataDir.startsWith('memory://') ? 'embedded PGlite (in memory)' : `embedded PGlite in ${dataDir}`,
    oneConnection: true,
    async ping() {
      await pglite.query('SELECT 1');
    },
    read: (text, params) => observed(options, text, params, async () => (await pglite.query<Record<string, unknown>>(text, [...params])).rows),
    transaction: (work) =>
      pglite.transaction((tx) => {
        options.onQuery?.('BEGIN');
        return work(
          (text, params) => observed(options, text, params, async () => (await tx.query<Record<string, unknown>>(text, [...params])).rows),
          (sql, rows) => observed(options, sql, [], async () => void (await tx.query(sql, [], { blob: new Blob([rows]) }))),
        ).then((result) => (options.onQuery?.('COMMIT'), result));
      }),
    poolStats: () => undefined,
    close: once(async () => {
      try {
        await prisma.$disconnect();
      } finally {
        try {
          // close() checkpoints and flushes the WASM file system, so the directory is consistent.
          await pglite.close();
        } finally {
          // Closed, or its thread stopped (pglite-thread.ts): either way no one has the directory open.
          started.release();
        }
      }
    }),
  };
}

/** The URL's own `options` startup parameter (if any) with one more. */
function withStartupOption(url: string, option: string): string {
  const given = new URL(url).searchParams.get('options');
  return given ? `${given} ${option}` : option;
}

function connectionProblem(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { code?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is PostgreSQL running?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case '28P01':
    case '28000':
      return 'authentication failed';
    case '3D000':
      return 'database does not exist';
    default:
      return e.message?.split('\n')[0] || String(error);
  }
}

async function openPostgres(
  config: Extract<DatabaseConfig, { kind: 'postgres' }>,
  options: DatabaseOptions,
): Promise<Database> {
  const prepared = config.preparedStatements !== false;
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    connectionTimeoutMillis: config.connectTimeoutMs,
    // Planned reads are prepared statements whose best plan does not depend on their parameters (an
    // index range either way). Left to choose, PostgreSQL keeps re-planning them at every execution;
    // a generic plan halves their cost. Prisma's statements are unnamed, planned each time anyway.
    // Sent at connection start; poolers that refuse startup options need DATABASE_PREPARED_STATEMENTS=false.
    ...(prepared ? { options: withStartupOption(config.url, '-c plan_cache_mode=force_generic_plan') } : {}),
    // Prisma's driver adapter writes timestamps without an offset and reads them dropping it: under
    // a database or role whose timezone is not UTC, every time would move by that offset. Each
    // connection runs in UTC, set before the pool hands it out (a pooler keeps TimeZone per client).
    onConnect: async (client: pg.ClientBase) => {
      await client.query("SET TIME ZONE 'UTC'");
    },
  });
  // An idle client that loses its server emits 'error' on the pool; unhandled, that kills the process.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw new ConfigError(
      'DATABASE_URL',
      `cannot connect to ${redactUrl(config.url)}: ${connectionProblem(error)}`,
    );
  }
  const adapterFactory = new PrismaPg(pool);
  const prisma = createClient(adapterFactory, options);
  const nameOf = statementNames();
  return {
    prisma,
    adapterFactory,
    description: `PostgreSQL at ${redactUrl(config.url)}`,
    oneConnection: false,
    async ping() {
      await pool.query('SELECT 1');
    },
    read: (text, params) =>
      observed(options, text, params, async () => (await pool.query({ name: prepared ? nameOf(text) : undefined, text, values: [...params] })).rows),
    async transaction(work) {
      const client = await pool.connect();
      const run = (text: string, params: readonly unknown[]) =>
        observed(options, text, params, async () => (await client.query({ name: prepared && params.length ? nameOf(text) : undefined, text, values: [...params] })).rows);
      let broken: Error | undefined;
      try {
        await run('BEGIN', []);
        const result = await work(run);
        await run('COMMIT', []);
        return result;
      } catch (error) {
        // A connection that cannot even roll back is not given back to the pool.
        await run('ROLLBACK', []).catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: once(async () => {
      await prisma.$disconnect();
      await pool.end();
    }),
  };
}

/** Opens the configured database; bad settings or an unreachable server throw a ConfigError. */
export function openDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Promise<Database> {
  if (config.kind === 'postgres') return openPostgres(config, options);
  if (options.started && options.started.config !== config) throw new Error('the embedded database was started with another configuration');
  return openPGlite(config, options);
}
