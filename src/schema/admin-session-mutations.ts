// Unsigned operator actions (Kratos and Clerk admin APIs): admin API tokens only.
import { requireAdmin } from '../auth/guards.js';
import { builder } from '../builder.js';
import { codedError } from '../errors.js';
import { eventOrigin } from '../events/origin.js';
import { withEvents } from '../events/record.js';
import { resolveId } from '../domain/vendor-ids.js';
import { future, invalidField, optionalText } from './input.js';
import { SessionNode } from './session.js';
import { effectiveStatus } from '../domain/session-status.js';

builder.relayMutationField(
  'adminRevokeSession',
  {
    description: 'What adminRevokeSession needs.',
    inputFields: (t) => ({
      sessionId: t.id({ required: true, description: 'The session to revoke (`Session:<uuid>`, or an imported session\'s vendor id).' }),
      reason: t.string({ required: false, description: 'Why, for the record.' }),
    }),
  },
  {
    description: 'Revokes a session at once, without a signature (admin).',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const id = await resolveId(ctx.prisma, input.sessionId, 'Session');
      const reason = optionalText(input.reason, 'input.reason');
      const now = ctx.now();
      const session = await withEvents(ctx.prisma, ctx.events, async (tx, events) => {
        const { count } = await tx.session.updateMany({
          where: { id, status: 'ACTIVE' },
          data: { status: 'REVOKED', revokedAt: now, revocationReason: reason },
        });
        const found = await tx.session.findUnique({ where: { id } });
        if (!found) throw codedError('NOT_FOUND', `No Session ${input.sessionId}`);
        if (count === 0) throw codedError('SESSION_ALREADY_REVOKED', `Session ${input.sessionId} is already ${found.status}`);
        events.push({ type: 'SESSION_REVOKED', identityId: found.identityId, sessionId: id, reason, ...eventOrigin(ctx), occurredAt: now });
        return found;
      });
      ctx.metrics.revocations.inc({ kind: 'admin' });
      return { session };
    },
  },
  {
    description: 'The revoked session.',
    outputFields: (t) => ({ session: t.field({ type: SessionNode, description: 'The session, now REVOKED.', resolve: (p) => p.session }) }),
  },
);

builder.relayMutationField(
  'revokeIdentitySessions',
  {
    description: 'What revokeIdentitySessions needs.',
    inputFields: (t) => ({
      identityId: t.id({ required: true, description: 'Whose sessions to revoke (`Identity:<uuid>`, or an imported identity\'s vendor id).' }),
      reason: t.string({ required: false, description: 'Why, for the record.' }),
    }),
  },
  {
    description: 'Revokes every active session of an identity, without a signature (admin; Kratos "delete identity sessions").',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const identityId = await resolveId(ctx.prisma, input.identityId, 'Identity');
      const reason = optionalText(input.reason, 'input.reason');
      if (!(await ctx.prisma.identity.findUnique({ where: { id: identityId }, select: { id: true } }))) {
        throw codedError('NOT_FOUND', `No Identity ${input.identityId}`);
      }
      const now = ctx.now();
      return withEvents(ctx.prisma, ctx.events, async (tx, events) => {
        const ids = (await tx.session.findMany({ where: { identityId, status: 'ACTIVE' }, select: { id: true } })).map((s) => s.id);
        await tx.session.updateMany({
          where: { id: { in: ids }, status: 'ACTIVE' },
          data: { status: 'REVOKED', revokedAt: now, revocationReason: reason },
        });
        const revokedSessions = await tx.session.findMany({ where: { id: { in: ids } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
        const origin = eventOrigin(ctx);
        for (const session of revokedSessions) events.push({ type: 'SESSION_REVOKED', identityId, sessionId: session.id, reason, ...origin, occurredAt: now });
        return { revokedSessions };
      }).then((result) => {
        ctx.metrics.revocations.inc({ kind: 'admin' }, result.revokedSessions.length);
        return result;
      });
    },
  },
  {
    description: 'The sessions revoked.',
    outputFields: (t) => ({
      revokedSessions: t.field({ type: [SessionNode], description: 'Every session this revoked, newest first.', resolve: (p) => p.revokedSessions }),
      revokedCount: t.int({ description: 'How many sessions were revoked.', resolve: (p) => p.revokedSessions.length }),
    }),
  },
);

builder.relayMutationField(
  'extendSession',
  {
    description: 'What extendSession needs.',
    inputFields: (t) => ({
      sessionId: t.id({ required: true, description: 'The session to extend (`Session:<uuid>`, or an imported session\'s vendor id).' }),
      until: t.field({ type: 'DateTime', required: true, description: 'Its new expiry, in the future.' }),
    }),
  },
  {
    description: 'Moves an active session\'s expiry (admin; Kratos "extend session").',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const id = await resolveId(ctx.prisma, input.sessionId, 'Session');
      const now = ctx.now();
      const until = future(input.until, 'input.until', now)!;
      const session = await ctx.prisma.session.findUnique({ where: { id } });
      if (!session) throw codedError('NOT_FOUND', `No Session ${input.sessionId}`);
      const status = effectiveStatus(session, now);
      if (status !== 'ACTIVE') throw invalidField('input.sessionId', `session ${input.sessionId} is ${status}; only an active session can be extended`);
      return withEvents(ctx.prisma, ctx.events, async (tx, events) => {
        // Compare-and-set on the status: a revocation that lands first wins.
        const { count } = await tx.session.updateMany({ where: { id, status: 'ACTIVE' }, data: { expiresAt: until } });
        if (count === 0) throw codedError('SESSION_ALREADY_REVOKED', `Session ${input.sessionId} is no longer active`);
        events.push({
          type: 'SESSION_EXTENDED',
          identityId: session.identityId,
          sessionId: id,
          ...eventOrigin(ctx),
          details: { previousExpiresAt: session.expiresAt?.toISOString() ?? null, expiresAt: until.toISOString() },
          occurredAt: now,
        });
        return { session: await tx.session.findUniqueOrThrow({ where: { id } }) };
      });
    },
  },
  {
    description: 'The extended session.',
    outputFields: (t) => ({ session: t.field({ type: SessionNode, description: 'The session with its new expiry.', resolve: (p) => p.session }) }),
  },
);
