// The thread the embedded database runs on (pglite-thread.ts says why it has one). Node's modules
// and PGlite only: it runs as plain JavaScript from dist/ and with Node's own type stripping under
// the tests. Values cross the thread as PostgreSQL sends them (text): the main thread parses them
// with the parsers its caller chose, which are functions and cannot cross.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { PGlite as PGliteInstance, Results, Transaction } from '@electric-sql/pglite';
import type { SpareCopy } from './spare-copy-thread.js';

export interface PGliteThreadStart {
  /** The data directory; undefined for an in-memory database. */
  directory?: string;
  /** PostgreSQL settings after PGlite's own start parameters (a list given to PGlite replaces its defaults). */
  settings: string[];
  /** A new directory: the packed template it is made a copy of before the database opens (directory-unpack.ts). */
  template?: string;
  /** The template's spare copy, renamed into place when there is one (and made again after). */
  spare?: string;
}

/** Sent once the thread's modules load: where and from what the database opens. */
export interface PGliteThreadOpen {
  op: 'open';
  /** A dump for PGlite to load into a new database (its path). */
  loadDataDirFrom?: string;
}

export type PGliteThreadRequest =
  | { op: 'query'; id: number; tx?: number; sql: string; params: unknown[]; blob?: Blob }
  | { op: 'exec'; id: number; tx?: number; sql: string }
  | { op: 'rollback'; id: number; tx: number }
  | { op: 'begin'; id: number; tx: number }
  | { op: 'end'; id: number; tx: number; commit: boolean }
  | { op: 'close'; id: number };

/** A result as PostgreSQL sent it: every value text (or null), rows as arrays. */
export interface RawResults {
  fields: { name: string; dataTypeID: number }[];
  rows: (string | null)[][];
  affectedRows?: number;
  command?: string;
  rowCount?: number;
  blob?: Blob;
}

export interface ThreadError {
  message: string;
  /** A PostgreSQL error (PGlite's DatabaseError): its fields, to be rebuilt as one. */
  database?: Record<string, string | number | undefined>;
}

export type PGliteThreadReply =
  | { id: number; results: RawResults | RawResults[] | null }
  | { id: number; error: ThreadError }
  | { opened: { arrayTypes: { oid: number; typarray: number }[] } }
  | { openFailed: string }
  | { warning: ThreadWarning };

/** Something the operator should hear of that did not stop the database: the main thread logs it. */
export interface ThreadWarning {
  message: string;
  error: string;
}

const port = parentPort!;
const { directory, settings, template, spare } = workerData as PGliteThreadStart;

/**
 * PGlite's WebAssembly compiled (by V8's compiler threads, from the moment the thread starts) and
 * its file bundle read while its module loads and a new directory's template is copied. Nothing
 * when the files are not where this PGlite keeps them (it then loads them its own way).
 */
function pgliteAssets(): Promise<{ pgliteWasmModule?: WebAssembly.Module; fsBundle?: Blob }> {
  let dist: string;
  let compiling: Promise<WebAssembly.Module>;
  try {
    dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    // Read at once, not by a callback: the copy below keeps this thread busy and would hold the compile back.
    compiling = WebAssembly.compile(readFileSync(join(dist, 'pglite.wasm')));
  } catch {
    return Promise.resolve({});
  }
  return Promise.all([compiling, readFile(join(dist, 'pglite.data'))]).then(
    // PGlite asks its bundle for arrayBuffer() alone. A Blob would hand back its 6 MB through Node's
    // chunked blob reader (0.1 s of this thread); the bytes read are handed over as they are.
    ([pgliteWasmModule, data]) => ({ pgliteWasmModule, fsBundle: { arrayBuffer: async () => (data.byteLength === data.buffer.byteLength ? data.buffer : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) } as Blob }),
    () => ({}),
  );
}

const assets = pgliteAssets();
assets.catch(() => {}); // awaited by serve
const pgliteModule = import('@electric-sql/pglite');
const opening = new Promise<PGliteThreadOpen>((resolve) => port.once('message', resolve));

// The modules beside this one (.js in dist/, their TypeScript source under the tests).
const besideThis = (name: string) => new URL(`./${name}${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
// A new directory: the template's spare copy renamed into place, else the template unpacked.
const copying: Promise<void> =
  directory && template
    ? import(besideThis('directory-unpack').href).then(({ takeSpare, unpackInto }: typeof import('./directory-unpack.js')) => {
        if (!(spare && takeSpare(spare, directory))) unpackInto(template, directory);
      })
    : Promise.resolve();
copying.catch(() => {}); // awaited by serve

function threadError(error: unknown, DatabaseError: abstract new (...args: never[]) => Error): ThreadError {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof DatabaseError)) return { message };
  // Its own fields that are plain values: the query's options (functions) and parameters stay behind.
  const database: Record<string, string | number | undefined> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'params' && key !== 'queryOptions' && (typeof value === 'string' || typeof value === 'number')) database[key] = value;
  }
  return { message, database };
}

/**
 * Makes the spare copy again on a thread of its own (spare-copy-thread.ts), so the next new
 * directory finds one. Resolves when that thread ends, however: without a spare, a new directory is
 * unpacked (slower, as correct), and the operator is told why there is none.
 */
function remakeSpare(archive: string, spare: string): Promise<void> {
  return new Promise((ended) => {
    const thread = new Worker(besideThis('spare-copy-thread'), { workerData: { archive, spare } satisfies SpareCopy, execArgv: [] });
    thread.unref(); // a process that ends without closing the database leaves a partial copy, removed by the next
    thread.once('error', (error) => {
      const warning: ThreadWarning = { message: `the template's spare copy could not be made at ${spare}: a new data directory is unpacked instead (slower)`, error: error.message };
      port.postMessage({ warning } satisfies PGliteThreadReply);
    });
    thread.once('exit', () => ended());
  });
}

async function serve(): Promise<void> {
  const [{ PGlite, messages }, { loadDataDirFrom }] = await Promise.all([pgliteModule, opening]);
  let pglite: PGliteInstance;
  try {
    await copying.catch((error: Error) => {
      throw new Error(`the template could not be copied into ${directory}: ${error.message}`);
    });
    const loadDataDir = loadDataDirFrom ? new Blob([await readFile(loadDataDirFrom)]) : undefined;
    const startParams = [...PGlite.defaultStartParams, ...settings.flatMap((setting) => ['-c', setting])];
    pglite = await PGlite.create(directory, { ...(await assets), ...(loadDataDir ? { loadDataDir } : {}), startParams });
  } catch (error) {
    port.postMessage({ openFailed: (error as Error).message } satisfies PGliteThreadReply);
    return;
  }
  // The array types' element types, read (and parsed: typarray a number) before the parsers go.
  const arrayTypes = (
    await pglite.query<{ oid: number; typarray: number }>(
      `SELECT b.oid, b.typarray FROM pg_catalog.pg_type a LEFT JOIN pg_catalog.pg_type b ON b.oid = a.typelem
       WHERE a.typcategory = 'A' GROUP BY b.oid, b.typarray ORDER BY b.oid`,
    )
  ).rows;
  // Every type PGlite would parse is left as its text (the main thread parses it): the instance's
  // parsers, array types included, each replaced by the identity. Replaced in place, not given with
  // each query: PGlite merges a query's parsers into a copy of its own, some 200 keys a statement.
  const text = (value: string) => value;
  for (const type of Object.keys(pglite.parsers)) pglite.parsers[type] = text;

  const raw = (results: Results<unknown[]>): RawResults => results as unknown as RawResults;
  let spareMade = Promise.resolve();
  // An open transaction: the handle its statements run on, how to end it, and PGlite's promise of
  // its outcome (a failed COMMIT rejects it).
  interface OpenTransaction {
    handle: Transaction;
    finish(commit: boolean): void;
    outcome: Promise<void>;
  }
  const transactions = new Map<number, OpenTransaction>();
  const transaction = (tx: number): OpenTransaction => {
    const open = transactions.get(tx);
    if (!open) throw new Error('Transaction is closed');
    return open;
  };

  const run = async (request: PGliteThreadRequest): Promise<RawResults | RawResults[] | null> => {
    switch (request.op) {
      case 'query': {
        const on = request.tx === undefined ? pglite : transaction(request.tx).handle;
        return raw(await on.query<unknown[]>(request.sql, request.params, { rowMode: 'array', ...(request.blob ? { blob: request.blob } : {}) }));
      }
      case 'exec': {
        const on = request.tx === undefined ? pglite : transaction(request.tx).handle;
        return (await on.exec(request.sql, { rowMode: 'array' })).map((results) => raw(results as Results<unknown[]>));
      }
      case 'rollback':
        await transaction(request.tx).handle.rollback();
        return null;
      case 'begin':
        // Answered once the transaction has begun; `end` is answered with its outcome.
        return new Promise((began, failed) => {
          const open = {} as OpenTransaction;
          open.outcome = pglite.transaction(
            (handle) =>
              new Promise<void>((commit, rollBack) => {
                Object.assign(open, { handle, finish: (ok: boolean) => (ok ? commit() : rollBack(new Error('rolled back by its caller'))) });
                transactions.set(request.tx, open);
                began(null);
              }),
          );
          open.outcome.catch(failed); // BEGIN itself failed; once begun, this does nothing
        });
      case 'end': {
        const open = transaction(request.tx);
        transactions.delete(request.tx);
        open.finish(request.commit);
        if (request.commit) await open.outcome;
        else await open.outcome.catch(() => {});
        return null;
      }
      case 'close':
        await spareMade; // a start and stop in a moment still leaves the spare for the next
        await pglite.close();
        return null;
    }
  };

  port.on('message', (request: PGliteThreadRequest) => {
    run(request).then(
      (results) => {
        port.postMessage({ id: request.id, results } satisfies PGliteThreadReply);
        if (request.op === 'close') port.close();
      },
      (error: unknown) => port.postMessage({ id: request.id, error: threadError(error, messages.DatabaseError) } satisfies PGliteThreadReply),
    );
  });
  port.postMessage({ opened: { arrayTypes } } satisfies PGliteThreadReply);
  // After the answer, beside the first statements: the spare made again when there is none — this
  // start took it, or a process ended between taking it and making it again (killed, or stopped
  // twice while starting) — else every later new directory would be unpacked.
  if (template && spare && !existsSync(spare)) spareMade = remakeSpare(template, spare);
}

void serve();
