// The thread that makes the template's spare copy again after a start took it, or where none is
// left (directory-unpack.ts, takeSpare), started by the database's thread once the database has
// opened: a thread of its own, so that the database answers meanwhile. Node's modules only, as
// pglite-worker.ts.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';

/** What the thread is given. */
export interface SpareCopy {
  archive: string;
  spare: string;
}

const { archive, spare } = workerData as SpareCopy;
// The module beside this one (directory-unpack.js in dist/, its TypeScript source under the tests).
const { makeSpare }: typeof import('./directory-unpack.js') = await import(new URL(`./directory-unpack${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href);
makeSpare(archive, spare);
