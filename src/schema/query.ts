// Typed readers next to the generic node/nodes fields the relay plugin adds.
import { builder } from '../builder.js';
import { decodeGlobalId } from './global-id.js';
import { IdentityNode } from './identity.js';
import { SessionNode } from './session.js';

builder.queryFields((t) => ({
  identity: t.prismaField({
    type: IdentityNode,
    nullable: true,
    description: 'An identity by its global id (`Identity:<uuid>`); null when there is none.',
    args: { id: t.arg.id({ required: true, description: 'The identity\'s global id.' }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.identity.findUnique({ ...query, where: { id: decodeGlobalId(String(args.id), 'Identity').id } }),
  }),
  session: t.prismaField({
    type: SessionNode,
    nullable: true,
    description: 'A session by its global id (`Session:<uuid>`); null when there is none.',
    args: { id: t.arg.id({ required: true, description: 'The session\'s global id.' }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.session.findUnique({ ...query, where: { id: decodeGlobalId(String(args.id), 'Session').id } }),
  }),
}));
