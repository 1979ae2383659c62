// Vendor file → checked batch → one transaction. Used by `npm run import` and `importSessions`.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Vendor } from '../generated/prisma/enums.js';
import { parseClerk } from './clerk.js';
import { parseGrid } from './grid.js';
import { parseKratos } from './kratos.js';
import type { ImportBatch } from './model.js';
import { ImportError } from './record-reader.js';
import { storeBatch, type ImportEvents, type ImportSummary } from './store.js';

export { ImportError };
export type { ImportSummary } from './store.js';
export { ImportConflictError } from './store.js';

const parsers: Record<Vendor, (document: unknown) => ImportBatch> = {
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

/** Checks the whole document first (throwing ImportError at the first bad field), then writes it. */
export async function importDocument(prisma: PrismaClient, source: Vendor, document: unknown, recording?: ImportEvents): Promise<ImportSummary> {
  const batch = parsers[source](document);
  refuseRepeatedSessions(batch);
  return storeBatch(prisma, batch, recording);
}
