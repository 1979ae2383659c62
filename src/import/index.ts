// Vendor file → checked batch → one transaction. Used by `npm run import` and `importSessions`.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Vendor } from '../generated/prisma/enums.js';
import { parseClerk } from './clerk.js';
import { parseGrid } from './grid.js';
import { parseKratos } from './kratos.js';
import type { ImportBatch } from './model.js';
import { storeBatch, type ImportSummary } from './store.js';

export { ImportError } from './record-reader.js';
export type { ImportSummary } from './store.js';

const parsers: Record<Vendor, (document: unknown) => ImportBatch> = {
  GRID: parseGrid,
  KRATOS: parseKratos,
  CLERK: parseClerk,
};

/** Checks the whole document first (throwing ImportError at the first bad field), then writes it. */
export async function importDocument(prisma: PrismaClient, source: Vendor, document: unknown): Promise<ImportSummary> {
  const batch = parsers[source](document);
  return storeBatch(prisma, batch);
}
