// The sessions and identities connections: filter arguments → Prisma `where`, then one keyset
// page query that also loads the relations the client selected under edges.node (plugin-prisma's
// queryFromInfo), so a page costs one statement per relation, whatever its size.
import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { IdentityState, Vendor } from '../generated/prisma/enums.js';
import type { Identity, Prisma, Session } from '../generated/prisma/client.js';
import { CredentialTypeEnum, IdentityStateEnum, SessionStatusEnum, VendorEnum } from './enums.js';
import { planPage, toPage, type ConnectionArgs, type KeysetWhere } from './pagination.js';
import { sessionWhere, type SessionWhereFilter } from '../sessions/filters.js';

export { sessionWhere };

export type SessionFilter = Omit<SessionWhereFilter, 'identityUuid'> & { identityId?: string | null };

export const SessionFilterInput = builder.inputType('SessionFilter', {
  description: 'Narrows a list of sessions; all given conditions must hold.',
  fields: (t) => ({
    identityId: t.id({ required: false, description: 'Only sessions of this identity (`Identity:<uuid>`, or an imported identity\'s vendor id: Clerk `user_…`, Kratos uuid, Grid `InternalAccount:<uuid>`).' }),
    clientId: t.string({ required: false, description: 'Only sessions in this client (Clerk `client_id`).' }),
    status: t.field({ type: [SessionStatusEnum], required: false, description: 'Only sessions whose status (as `Session.status` reads it now) is one of these.' }),
    active: t.boolean({ required: false, description: 'Only sessions that authenticate now (true) or do not (false); Kratos `active`.' }),
    type: t.field({ type: [CredentialTypeEnum], required: false, description: 'Only sessions issued by one of these credential types.' }),
    externalSource: t.field({ type: VendorEnum, required: false, description: 'Only sessions imported from this vendor.' }),
    externalId: t.string({ required: false, description: 'Only the session with this vendor id.' }),
  }),
});

export interface IdentityFilter {
  state?: IdentityState | null;
  organizationId?: string | null;
  schemaId?: string | null;
  externalSource?: Vendor | null;
  externalId?: string | null;
}

export const IdentityFilterInput = builder.inputType('IdentityFilter', {
  description: 'Narrows a list of identities; all given conditions must hold.',
  fields: (t) => ({
    state: t.field({ type: IdentityStateEnum, required: false, description: 'Only identities in this state.' }),
    organizationId: t.string({ required: false, description: 'Only identities of this organization.' }),
    schemaId: t.string({ required: false, description: 'Only identities validated by this schema.' }),
    externalSource: t.field({ type: VendorEnum, required: false, description: 'Only identities imported from this vendor.' }),
    externalId: t.string({ required: false, description: 'Only the identity with this vendor id (Grid `InternalAccount:…`, Kratos uuid, Clerk `user_…`).' }),
  }),
});

export function identityWhere(filter: IdentityFilter): Prisma.IdentityWhereInput {
  return {
    state: filter.state ?? undefined,
    organizationId: filter.organizationId ?? undefined,
    schemaId: filter.schemaId ?? undefined,
    externalSource: filter.externalSource ?? undefined,
    externalId: filter.externalId ?? undefined,
  };
}

/** The nested selection the client asked for under edges.node, plus the sort key the cursors need. */
function nodeQuery(ctx: Context, info: GraphQLResolveInfo, typeName: string) {
  const query = queryFromInfo({ context: ctx, info, typeName, path: ['edges', 'node'] }) as {
    select?: Record<string, unknown>;
    include?: Record<string, unknown>;
  };
  return query.select ? { select: { ...query.select, id: true, createdAt: true } } : query;
}

/** What a keyset page needs of a Prisma model delegate (sessions and identities have it alike). */
export interface PagedDelegate<Row, Where> {
  findMany(args: { where: { AND: unknown[] }; orderBy: unknown; take: number } & object): Promise<Row[]>;
  findFirst(args: { where: { AND: [Where, KeysetWhere] }; select: { id: true } }): Promise<unknown>;
  count(args: { where: Where }): Promise<number>;
}

export async function keysetPage<Row extends { id: string; createdAt: Date }, Where>(
  delegate: PagedDelegate<Row, Where>,
  query: object,
  where: Where,
  args: ConnectionArgs,
  maxPageSize: number,
) {
  const plan = planPage(args, maxPageSize);
  const rows = await delegate.findMany({ ...query, where: { AND: [where, ...plan.where] }, orderBy: plan.orderBy, take: plan.take });
  return toPage(
    plan,
    rows,
    async (beyond) => (await delegate.findFirst({ where: { AND: [where, beyond] }, select: { id: true } })) !== null,
    () => delegate.count({ where }),
  );
}

export function sessionPage(ctx: Context, info: GraphQLResolveInfo, where: Prisma.SessionWhereInput, args: ConnectionArgs) {
  const delegate = ctx.prisma.session as unknown as PagedDelegate<Session, Prisma.SessionWhereInput>;
  return keysetPage(delegate, nodeQuery(ctx, info, 'Session'), where, args, ctx.maxPageSize);
}

export function identityPage(ctx: Context, info: GraphQLResolveInfo, where: Prisma.IdentityWhereInput, args: ConnectionArgs) {
  const delegate = ctx.prisma.identity as unknown as PagedDelegate<Identity, Prisma.IdentityWhereInput>;
  return keysetPage(delegate, nodeQuery(ctx, info, 'Identity'), where, args, ctx.maxPageSize);
}
