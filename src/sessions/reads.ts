// Sessions as the vendor routes read them: one by id, or a page of a filtered list, each with its
// identity and devices in the same statement — always through the caller's visibility (a session
// sees its own identity's sessions; an id it may not see reads like one that does not exist).
import { visibleIdentity } from '../auth/guards.js';
import type { Context } from '../context.js';
import { noSuchId, resolveId } from '../domain/vendor-ids.js';
import { planPage, toPage } from '../domain/pagination.js';
import type { Credential, Device, Identity, Prisma, RecoveryAddress, Session, VerifiableAddress } from '../generated/prisma/client.js';
import { sessionWhere, type SessionWhereFilter } from './filters.js';

export type SessionRow = Session & {
  identity: Identity & { verifiableAddresses?: VerifiableAddress[]; recoveryAddresses?: RecoveryAddress[] };
  devices: Device[];
};

/** `full`: the identity's addresses and every device (Kratos); `brief`: the identity and the latest device (Clerk). */
export type Detail = 'full' | 'brief';

const devicesNewestFirst: Prisma.Session$devicesArgs = { orderBy: [{ lastSeenAt: 'desc' }, { id: 'desc' }] };
const includes: Record<Detail, Prisma.SessionInclude> = {
  full: { identity: { include: { verifiableAddresses: { orderBy: { id: 'asc' } }, recoveryAddresses: { orderBy: { id: 'asc' } } } }, devices: devicesNewestFirst },
  brief: { identity: true, devices: { ...devicesNewestFirst, take: 1 } },
};

/** Our uuid for a session id in a path (ours, a vendor's, or a bare uuid); noSuchId for one that names nothing. */
export async function sessionIdFromPath(ctx: Context, raw: string): Promise<string> {
  try {
    return await resolveId(ctx.prisma, raw, 'Session');
  } catch {
    return noSuchId;
  }
}

/** Our uuid for an identity id in a path or filter; noSuchId for one that names nothing. */
export async function identityIdFromPath(ctx: Context, raw: string): Promise<string> {
  try {
    return await resolveId(ctx.prisma, raw, 'Identity');
  } catch {
    return noSuchId;
  }
}

/** One session the caller may see, or null. */
export async function visibleSession(ctx: Context, id: string, detail: Detail): Promise<SessionRow | null> {
  const visible = visibleIdentity(ctx);
  const row = (await ctx.prisma.session.findUnique({ where: { id }, include: includes[detail] })) as SessionRow | null;
  return row && (visible === null || row.identityId === visible) ? row : null;
}

function visibleWhere(ctx: Context, filter: SessionWhereFilter & { notId?: string }): Prisma.SessionWhereInput {
  const visible = visibleIdentity(ctx);
  const where = sessionWhere(filter, ctx, ctx.now());
  const and = [where, ...(visible === null ? [] : [{ identityId: visible }]), ...(filter.notId ? [{ id: { not: filter.notId } }] : [])];
  return { AND: and };
}

/** A page by offset (Clerk's limit / offset), newest first, with the total the filter matches. */
export async function sessionsByOffset(
  ctx: Context,
  filter: SessionWhereFilter & { notId?: string },
  limit: number,
  offset: number,
  detail: Detail,
): Promise<{ rows: SessionRow[]; total: number }> {
  const where = visibleWhere(ctx, filter);
  const [rows, total] = await Promise.all([
    ctx.prisma.session.findMany({ where, include: includes[detail], orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit, skip: offset }),
    ctx.prisma.session.count({ where }),
  ]);
  return { rows: rows as SessionRow[], total };
}

/** A keyset page (Kratos' page_size / page_token), newest first: the rows and the next page's token, if any. */
export async function sessionsByKeyset(
  ctx: Context,
  filter: SessionWhereFilter & { notId?: string },
  size: number,
  after: string | undefined,
  detail: Detail,
): Promise<{ rows: SessionRow[]; next: string | null }> {
  const where = visibleWhere(ctx, filter);
  const plan = planPage({ first: size, after }, size);
  const rows = (await ctx.prisma.session.findMany({ where: { AND: [where, ...plan.where] }, include: includes[detail], orderBy: plan.orderBy, take: plan.take })) as SessionRow[];
  const page = toPage(plan, rows, () => Promise.resolve(false), () => Promise.resolve(0));
  return { rows: page.edges.map((edge) => edge.node), next: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null };
}

/** The unrevoked credentials of an identity the caller may see, oldest first; none for one it may not. */
export async function visibleActiveCredentials(ctx: Context, identityId: string): Promise<(Credential & { identity: Identity })[]> {
  const visible = visibleIdentity(ctx);
  if (visible !== null && visible !== identityId) return [];
  return ctx.prisma.credential.findMany({ where: { identityId, revokedAt: null }, include: { identity: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}
