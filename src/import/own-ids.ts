// Our ids for imported records.
import type { Vendor } from '../generated/prisma/enums.js';
import { vendorUuid } from '../domain/vendor-ids.js';

/**
 * A new record takes the vendor's uuid as ours when no row has it yet (the writer checks), else a
 * new one; one uuid is offered to one record of a file only.
 */
export function candidates(source: Vendor): (externalId: string) => string | undefined {
  const offered = new Set<string>();
  return (externalId) => {
    const candidate = vendorUuid(source, externalId);
    if (!candidate || offered.has(candidate)) return undefined;
    offered.add(candidate);
    return candidate;
  };
}
