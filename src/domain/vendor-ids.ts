// A team moving from a vendor has the vendor's ids in its own tables: wherever an identity or a
// session id is taken (except node(id:), which stays strict), the vendor's id of an imported record
// works too — Clerk `sess_…` / `user_…`, Kratos uuids, Grid `InternalAccount:<uuid>` — as well as ours.
// Imported Grid and Kratos records keep the vendor's uuid as ours when it is free, so Grid's
// `Session:<uuid>` is the same id in both systems.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Vendor } from '../generated/prisma/enums.js';
import { decodeGlobalId } from './global-id.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Matches no row: a vendor id nobody imported reads exactly like an id that does not exist. */
export const noSuchId = '00000000-0000-0000-0000-000000000000';

type Kind = 'Identity' | 'Session';

/** Our uuid for an id argument (ours or a vendor's); noSuchId when no record has that vendor id. */
export async function resolveId(prisma: PrismaClient, raw: unknown, type: Kind): Promise<string> {
  if (typeof raw !== 'string') return decodeGlobalId(raw, type).id; // throws, naming the id
  const value = raw.trim();
  if (value.startsWith(`${type}:`)) return decodeGlobalId(value, type).id;
  const byVendor = async (source: Vendor, externalId: string, alsoOurs?: string) => {
    const where = { OR: [...(alsoOurs ? [{ id: alsoOurs }] : []), { externalSource: source, externalId }] };
    const found = type === 'Identity'
      ? await prisma.identity.findFirst({ where, select: { id: true } })
      : await prisma.session.findFirst({ where, select: { id: true } });
    return found?.id ?? noSuchId;
  };
  if (type === 'Identity' && /^InternalAccount:/.test(value) && uuid.test(value.slice(16))) return byVendor('GRID', value, value.slice(16).toLowerCase());
  if (type === 'Identity' && /^user_[A-Za-z0-9]+$/.test(value)) return byVendor('CLERK', value);
  if (type === 'Session' && /^sess_[A-Za-z0-9]+$/.test(value)) return byVendor('CLERK', value);
  if (uuid.test(value)) return byVendor('KRATOS', value.toLowerCase(), value.toLowerCase());
  return decodeGlobalId(value, type).id; // neither ours nor a vendor's: BAD_USER_INPUT naming it
}

/** The uuid an imported record should get: the vendor's own when it has one. */
export function vendorUuid(source: Vendor, externalId: string): string | undefined {
  const candidate = source === 'GRID' ? externalId.slice(externalId.indexOf(':') + 1) : source === 'KRATOS' ? externalId : '';
  return uuid.test(candidate) ? candidate.toLowerCase() : undefined;
}
