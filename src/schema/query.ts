// Typed readers next to the generic node/nodes fields the relay plugin adds.
import { builder } from '../builder.js';
import { IdentityFilterInput, SessionFilterInput, identityPage, identityWhere, sessionPage, sessionWhere } from './connections.js';
import { visibleIdentity } from '../auth/guards.js';
import { resolveId } from '../domain/vendor-ids.js';
import { IdentityConnection, IdentityNode } from './identity.js';
import { SessionConnection, SessionNode } from './session.js';

builder.queryFields((t) => ({
  identity: t.prismaField({
    type: IdentityNode,
    nullable: true,
    description: 'An identity by its global id (`Identity:<uuid>`) or, if imported, its vendor id (Clerk `user_…`, Kratos uuid, Grid `InternalAccount:<uuid>`); null when there is none.',
    args: { id: t.arg.id({ required: true, description: 'The identity\'s global id.' }) },
    resolve: async (query, _root, args, ctx) => {
      const id = await resolveId(ctx.prisma, args.id, 'Identity');
      const visible = visibleIdentity(ctx);
      // An identity the caller may not see reads exactly like one that does not exist.
      return visible !== null && visible !== id ? null : ctx.prisma.identity.findUnique({ ...query, where: { id } });
    },
  }),
  session: t.prismaField({
    type: SessionNode,
    nullable: true,
    description: 'A session by its global id (`Session:<uuid>`, also Grid\'s) or, if imported, its vendor id (Clerk `sess_…`, Kratos uuid); null when there is none.',
    args: { id: t.arg.id({ required: true, description: 'The session\'s global id.' }) },
    resolve: async (query, _root, args, ctx) => {
      const id = await resolveId(ctx.prisma, args.id, 'Session');
      const visible = visibleIdentity(ctx);
      const session = await ctx.prisma.session.findUnique({ ...query, where: { id } });
      return session && (visible === null || session.identityId === visible) ? session : null;
    },
  }),
  identities: t.field({
    type: IdentityConnection,
    description: 'Identities, newest first.',
    args: {
      ...t.arg.connectionArgs(),
      filter: t.arg({ type: IdentityFilterInput, required: false, description: 'Conditions the identities must meet.' }),
    },
    resolve: (_root, args, ctx, info) => {
      const visible = visibleIdentity(ctx);
      const where = identityWhere(args.filter ?? {});
      return identityPage(ctx, info, visible === null ? where : { AND: [where, { id: visible }] }, args);
    },
  }),
  sessions: t.field({
    type: SessionConnection,
    description: 'Sessions of all identities, newest first.',
    args: {
      ...t.arg.connectionArgs(),
      filter: t.arg({ type: SessionFilterInput, required: false, description: 'Conditions the sessions must meet.' }),
    },
    resolve: async (_root, args, ctx, info) => {
      const visible = visibleIdentity(ctx);
      const { identityId, ...filter } = args.filter ?? {};
      const identityUuid = identityId ? await resolveId(ctx.prisma, identityId, 'Identity') : undefined;
      const where = sessionWhere({ ...filter, identityUuid }, ctx, ctx.now());
      return sessionPage(ctx, info, visible === null ? where : { AND: [where, { identityId: visible }] }, args);
    },
  }),
}));
