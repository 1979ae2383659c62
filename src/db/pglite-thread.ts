// The embedded database on a thread of its own. PGlite's start (instantiating PostgreSQL's
// WebAssembly and starting its backend, about half a second) then runs while the main thread loads
// the server's modules and builds the schema, instead of after them; and its statements run beside
// the main thread's JavaScript. What the main thread holds is a client with the part of PGlite's
// interface the server and Prisma's PGlite adapter use (query, exec, transaction, close), answering
// exactly as PGlite would: the same results, parsed by the same parsers, the same errors. Parameters
// cross by structured clone: plain values, arrays, plain objects, Dates and byte arrays arrive as
// they are (a Buffer as a Uint8Array); an instance of another class arrives as a plain object.
import nodeModule from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PGlite, QueryOptions, Results, Transaction } from '@electric-sql/pglite';
import type { PGliteThreadOpen, PGliteThreadReply, PGliteThreadRequest, PGliteThreadStart, RawResults, ThreadError, ThreadWarning } from './pglite-worker.js';

type Parser = (value: string, typeId?: number) => unknown;
type Parsers = Record<number | string, Parser>;
type RequestBody = PGliteThreadRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** What of PGlite the server and the adapter use; a PGlite on this thread would do as well. */
export type PGliteClient = Pick<PGlite, 'query' | 'exec' | 'transaction' | 'close'>;

// The thread's module sits beside this one: compiled JavaScript in dist/, or its TypeScript source
// under the tests' transpiler (Node 24 strips the types itself).
const workerFile = new URL(`./pglite-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export interface PGliteThread {
  /** Resolves with the client once the database is open; rejects with PGlite's reason if it cannot open. */
  open(from: Omit<PGliteThreadOpen, 'op'>): Promise<PGliteClient>;
  /** Stops the thread (a database that never opened). */
  terminate(): Promise<void>;
  /** Hands the thread's warnings to `listener`, those that came before it was set included. */
  onWarning(listener: (warning: ThreadWarning) => void): void;
}

/**
 * Starts the thread at once: PGlite's modules load and its WebAssembly compiles there while the
 * caller prepares the directory (a new one's copy) and then calls `open`.
 */
export function startPGliteThread(start: PGliteThreadStart): PGliteThread {
  // None of the process's own Node options: the thread needs none, and some (--input-type, a
  // loader for the main thread's TypeScript) are refused or do not apply there.
  // Node's compile cache, when this thread has one, serves the thread's modules too (PGlite's: 30–40 ms).
  const compileCache = nodeModule.getCompileCacheDir?.();
  const worker = new Worker(workerFile, { workerData: start, execArgv: [], ...(compileCache ? { env: { ...process.env, NODE_COMPILE_CACHE: compileCache } } : {}) });
  let pglite: Promise<typeof import('@electric-sql/pglite')> | undefined; // its parsers and error class, on this side (loaded by open: before, it would compete with the thread)
  let stopped: Error | undefined;
  let closing = false;
  let opened: ((reply: PGliteThreadReply) => void) | undefined;
  const pending = new Map<number, { resolve: (results: RawResults | RawResults[] | null) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let DatabaseError: typeof import('@electric-sql/pglite').messages.DatabaseError;

  // Like PGlite on this thread, an idle database keeps no process alive; one waiting for an answer does.
  worker.unref();
  let warned: ((warning: ThreadWarning) => void) | undefined;
  const earlyWarnings: ThreadWarning[] = [];
  worker.on('message', (reply: PGliteThreadReply) => {
    if ('warning' in reply) return warned ? warned(reply.warning) : void earlyWarnings.push(reply.warning);
    if (!('id' in reply)) return opened?.(reply);
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0 && !closing) worker.unref();
    if ('error' in reply) waiting?.reject(rebuildError(reply.error));
    else waiting?.resolve(reply.results);
  });
  const stop = (reason: Error) => {
    stopped ??= reason;
    for (const waiting of pending.values()) waiting.reject(stopped);
    pending.clear();
    opened?.({ openFailed: stopped.message });
  };
  worker.on('error', (error) => stop(new Error(`the embedded database's thread failed: ${error.message}`)));
  worker.on('exit', (code) => stop(new Error(`the embedded database's thread stopped (exit code ${code})`)));

  function rebuildError({ message, database }: ThreadError): Error {
    return database ? Object.assign(new DatabaseError(message, Number(database.length ?? 0), 'error'), database) : new Error(message);
  }

  function send(request: RequestBody, transfer?: Blob): Promise<RawResults | RawResults[] | null> {
    if (stopped) return Promise.reject(stopped);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      // Sent first: a value that cannot cross (a function, a symbol) throws here, and then nothing
      // waits for an answer or holds the process.
      worker.postMessage({ ...request, id, ...(transfer ? { blob: transfer } : {}) } as PGliteThreadRequest);
      pending.set(id, { resolve, reject });
      if (pending.size === 1) worker.ref();
    });
  }

  return {
    async open(from) {
      if (stopped) throw stopped;
      const [module, reply] = await Promise.all([
        (pglite ??= import('@electric-sql/pglite')),
        new Promise<PGliteThreadReply>((resolve) => {
          opened = resolve;
          worker.ref();
          worker.postMessage({ op: 'open', ...from } satisfies PGliteThreadOpen);
        }),
      ]);
      opened = undefined;
      worker.unref();
      if ('openFailed' in reply) {
        await worker.terminate();
        throw new Error(reply.openFailed);
      }
      if (!('opened' in reply)) throw new Error('the embedded database thread answered out of turn');
      DatabaseError = module.messages.DatabaseError;
      const closed = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      const close = async () => {
        closing = true; // the thread stays referenced until it has exited: the process waits for the database to close
        worker.ref();
        try {
          await send({ op: 'close' });
        } catch (error) {
          // PGlite could not close (its files not flushed): the thread is stopped, the reason reported.
          await worker.terminate();
          throw error;
        } finally {
          stopped = new Error('the embedded database is closed');
        }
        await closed;
      };
      return pgliteClient(send, parsersWithArrays(module.types, reply.opened.arrayTypes), close);
    },
    async terminate() {
      await worker.terminate();
    },
    onWarning(listener) {
      warned = listener;
      for (const warning of earlyWarnings.splice(0)) listener(warning);
    },
  };
}

/** PGlite's parsers with one for each array type, as a PGlite instance makes them when it opens. */
function parsersWithArrays(types: typeof import('@electric-sql/pglite').types, arrayTypes: { oid: number; typarray: number }[]): Parsers {
  const parsers: Parsers = { ...(types.parsers as Parsers) };
  for (const { oid, typarray } of arrayTypes) parsers[typarray] = (value) => types.arrayParser(value, parsers[oid]!, typarray);
  return parsers;
}

/** A raw result parsed as PGlite parses one: the caller's parsers over the instance's (looked up per column, not merged per statement). */
function parsed<T>(raw: RawResults, instanceParsers: Parsers, options: QueryOptions | undefined): Results<T> {
  const given = options?.parsers as unknown as Parsers | undefined;
  const columns = raw.fields.map(({ dataTypeID }) => given?.[dataTypeID] ?? instanceParsers[dataTypeID]);
  const value = (text: string | null, index: number) => (text === null ? null : columns[index] ? columns[index](text, raw.fields[index]!.dataTypeID) : text);
  const rows =
    options?.rowMode === 'array'
      ? raw.rows.map((row) => row.map(value))
      : raw.rows.map((row) => Object.fromEntries(row.map((text, index) => [raw.fields[index]!.name, value(text, index)])));
  return { ...raw, rows } as Results<T>;
}

function pgliteClient(send: (request: RequestBody, blob?: Blob) => Promise<RawResults | RawResults[] | null>, parsers: Parsers, close: () => Promise<void>): PGliteClient {
  let nextTransaction = 0;
  const query = async <T>(tx: number | undefined, sql: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> => {
    // Options that would need the thread to run the caller's functions, or that nothing here sends, are refused rather than dropped.
    if (options?.serializers || options?.paramTypes) throw new Error('the embedded database thread takes neither serializers nor paramTypes: PGlite serializes the parameters there');
    return parsed<T>((await send({ op: 'query', tx, sql, params }, options?.blob)) as RawResults, parsers, options);
  };
  const exec = async (tx: number | undefined, sql: string, options?: QueryOptions): Promise<Results[]> => {
    if (options?.blob || options?.serializers) throw new Error('the embedded database thread takes a blob or serializers with query() alone');
    return ((await send({ op: 'exec', tx, sql })) as RawResults[]).map((raw) => parsed(raw, parsers, options));
  };
  let closing: Promise<void> | undefined;

  return {
    query: (sql, params, options) => query(undefined, sql, params, options),
    exec: (sql, options) => exec(undefined, sql, options),
    async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
      const tx = nextTransaction++;
      await send({ op: 'begin', tx });
      let closed = false;
      const handle = {
        query: <R>(sql: string, params?: unknown[], options?: QueryOptions) => query<R>(tx, sql, params, options),
        exec: (sql: string, options?: QueryOptions) => exec(tx, sql, options),
        async rollback() {
          await send({ op: 'rollback', tx });
          closed = true;
        },
        get closed() {
          return closed;
        },
      } as unknown as Transaction;
      let result: T;
      try {
        result = await work(handle);
      } catch (error) {
        await send({ op: 'end', tx, commit: false });
        throw error;
      }
      await send({ op: 'end', tx, commit: true });
      return result;
    },
    close: () => (closing ??= close()),
  } as PGliteClient;
}
