// Vendor file → checked batch → one transaction. Used by `npm run import` and `importSessions`.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Vendor } from '../generated/prisma/enums.js';
import { parseClerk } from './clerk.js';
import { parseGrid } from './grid.js';
import { parseKratos } from './kratos.js';
import type { ImportBatch } from './model.js';
import { ImportError } from './record-reader.js';
import { storeBatch, type ImportDatabase, type ImportEvents, type ImportSummary } from './store.js';

export { ImportError };
export type { ImportSummary } from './store.js';
export { ImportConflictError, type ImportDatabase } from './store.js';

const parsers: Record<Vendor, (document: unknown) => Promise<ImportBatch>> = {
  GRID: parseGrid,
  KRATOS: parseKratos,
  CLERK: parseClerk,
};

/** A session twice in one file would be written twice, the second silently winning: refuse it. */
function refuseRepeatedSessions(batch: ImportBatch): void {
  const first = new Map<string, string>();
  for (const session of batch.sessions) {
    const earlier = first.get(session.externalId);
    if (earlier !== undefined) {
      throw new ImportError(`${session.recordPath}.id`, `${JSON.stringify(session.externalId)} is also the id of ${earlier}; each session may appear once`);
    }
    first.set(session.externalId, session.recordPath);
  }
}

/** The batch without the identities and sessions already stored (matched by the vendor's ids). */
async function withoutStored(prisma: PrismaClient, batch: ImportBatch): Promise<ImportBatch> {
  const [identities, sessions] = await Promise.all([
    prisma.identity.findMany({ where: { externalSource: batch.source, externalId: { in: batch.identities.map((i) => i.externalId) } }, select: { externalId: true } }),
    prisma.session.findMany({ where: { externalSource: batch.source, externalId: { in: batch.sessions.map((s) => s.externalId) } }, select: { externalId: true } }),
  ]);
  const storedIdentities = new Set(identities.map((i) => i.externalId));
  const storedSessions = new Set(sessions.map((s) => s.externalId));
  return {
    source: batch.source,
    identities: batch.identities.filter((i) => !storedIdentities.has(i.externalId)),
    sessions: batch.sessions.filter((s) => !storedSessions.has(s.externalId)),
  };
}

export interface ImportOptions extends ImportEvents {
  /**
   * Leave the records already stored as they are (`npm run demo`, whose sessions may since have been
   * signed out); by default a record found again is updated to what the file says.
   */
  keepStored?: boolean;
}

/** The database an import reads its known records from (Prisma) and writes through (the driver). */
export type ImportTarget = ImportDatabase & { prisma: PrismaClient };

/** Checks the whole document first (throwing ImportError at the first bad field), then writes it. */
export async function importDocument(db: ImportTarget, source: Vendor, document: unknown, options: ImportOptions = {}): Promise<ImportSummary> {
  const { keepStored, ...recording } = options;
  const batch = await parsers[source](document);
  refuseRepeatedSessions(batch);
  const written = keepStored ? await withoutStored(db.prisma, batch) : batch;
  return { ...(await storeBatch(db, written, recording)), sessionsKept: batch.sessions.length - written.sessions.length };
}
