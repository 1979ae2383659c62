// Which sessions a list filter selects — by identity, client, credential type, vendor id, the
// status as it reads now, or Kratos' `active` — for GraphQL's connections and the vendor routes alike.
import type { Context } from '../context.js';
import { activeSql, effectiveStatusSql, effectiveStatusWhere } from '../domain/session-status.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { CredentialType, SessionStatus, Vendor } from '../generated/prisma/enums.js';

export interface SessionWhereFilter {
  /** Our identity uuid (a vendor's id already resolved). */
  identityUuid?: string;
  clientId?: string | null;
  status?: SessionStatus[] | null;
  active?: boolean | null;
  type?: CredentialType[] | null;
  externalSource?: Vendor | null;
  externalId?: string | null;
}

/** `identityUuid`: the filter's identityId, already resolved to ours (it may have been a vendor's). */
export function sessionWhere(filter: SessionWhereFilter, ctx: Pick<Context, 'prisma'>, now: Date): Prisma.SessionWhereInput {
  const and: Prisma.SessionWhereInput[] = [];
  if (filter.identityUuid) and.push({ identityId: filter.identityUuid });
  if (filter.clientId != null) and.push({ clientId: filter.clientId });
  // Enum lists are sets: [ACTIVE × 500] is one condition, not 500.
  if (filter.type) and.push({ type: { in: [...new Set(filter.type)] } });
  if (filter.externalSource) and.push({ externalSource: filter.externalSource });
  if (filter.externalId != null) and.push({ externalId: filter.externalId });
  const fields = ctx.prisma.session.fields;
  if (filter.status) and.push({ OR: [...new Set(filter.status)].map((status) => effectiveStatusWhere(status, now, fields)) });
  if (filter.active != null) {
    const active = effectiveStatusWhere('ACTIVE', now, fields);
    and.push(filter.active ? active : { NOT: active });
  }
  return { AND: and };
}

/**
 * The same filter as SQL over a session row `s`, for statements straight to the driver (the vendor
 * routes' reads): identity, client, the status as it reads now and `active`, with the domain's SQL
 * forms of those rules. `param` adds a parameter and returns its placeholder; `now` the clock's
 * (added only when a condition needs it).
 */
export function sessionWhereSql(filter: Pick<SessionWhereFilter, 'identityUuid' | 'clientId' | 'status' | 'active'>, now: () => string, param: (value: unknown) => string): string[] {
  const and: string[] = [];
  if (filter.identityUuid) and.push(`s.identity_id = ${param(filter.identityUuid)}::uuid`);
  if (filter.clientId != null) and.push(`s.client_id = ${param(filter.clientId)}`);
  if (filter.status) and.push(`${effectiveStatusSql('s', now())} = ANY(${param([...new Set(filter.status)])}::text[])`);
  if (filter.active != null) and.push(filter.active ? activeSql('s', now()) : `NOT ${activeSql('s', now())}`);
  return and;
}
