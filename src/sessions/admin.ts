// Unsigned operator actions on sessions (Kratos' and Clerk's admin APIs): admin API tokens only.
// GraphQL's adminRevokeSession / revokeIdentitySessions / extendSession and the vendor routes call
// these; each writes its events in the same transaction.
import { requireAdmin } from '../auth/guards.js';
import type { Context } from '../context.js';
import { future, invalidField, optionalText } from '../domain/input.js';
import { effectiveStatus } from '../domain/session-status.js';
import { resolveId } from '../domain/vendor-ids.js';
import { codedError } from '../errors.js';
import { eventOrigin } from '../events/origin.js';
import { withEvents } from '../events/record.js';
import type { Session } from '../generated/prisma/client.js';

/** Revokes one session at once; `rawId` is ours or a vendor's. NOT_FOUND, or SESSION_ALREADY_REVOKED when it is not ACTIVE. */
export async function adminRevokeSession(ctx: Context, rawId: string, rawReason?: string | null): Promise<Session> {
  requireAdmin(ctx);
  const id = await resolveId(ctx.prisma, rawId, 'Session');
  const reason = optionalText(rawReason, 'input.reason');
  const now = ctx.now();
  const session = await withEvents(ctx.prisma, ctx.events, async (tx, events) => {
    const { count } = await tx.session.updateMany({
      where: { id, status: 'ACTIVE' },
      data: { status: 'REVOKED', revokedAt: now, revocationReason: reason },
    });
    const found = await tx.session.findUnique({ where: { id } });
    if (!found) throw codedError('NOT_FOUND', `No Session ${rawId}`);
    if (count === 0) throw codedError('SESSION_ALREADY_REVOKED', `Session ${rawId} is already ${found.status}`);
    events.push({ type: 'SESSION_REVOKED', identityId: found.identityId, sessionId: id, reason, ...eventOrigin(ctx), occurredAt: now });
    return found;
  });
  ctx.metrics.revocations.inc({ kind: 'admin' });
  return session;
}

/** Revokes every active session of an identity; the revoked sessions, newest first. */
export async function revokeIdentitySessions(ctx: Context, rawIdentityId: string, rawReason?: string | null): Promise<Session[]> {
  requireAdmin(ctx);
  const identityId = await resolveId(ctx.prisma, rawIdentityId, 'Identity');
  const reason = optionalText(rawReason, 'input.reason');
  if (!(await ctx.prisma.identity.findUnique({ where: { id: identityId }, select: { id: true } }))) {
    throw codedError('NOT_FOUND', `No Identity ${rawIdentityId}`);
  }
  const now = ctx.now();
  const revokedSessions = await withEvents(ctx.prisma, ctx.events, async (tx, events) => {
    const ids = (await tx.session.findMany({ where: { identityId, status: 'ACTIVE' }, select: { id: true } })).map((s) => s.id);
    await tx.session.updateMany({
      where: { id: { in: ids }, status: 'ACTIVE' },
      data: { status: 'REVOKED', revokedAt: now, revocationReason: reason },
    });
    const revoked = await tx.session.findMany({ where: { id: { in: ids } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    const origin = eventOrigin(ctx);
    for (const session of revoked) events.push({ type: 'SESSION_REVOKED', identityId, sessionId: session.id, reason, ...origin, occurredAt: now });
    return revoked;
  });
  ctx.metrics.revocations.inc({ kind: 'admin' }, revokedSessions.length);
  return revokedSessions;
}

/** Moves an active session's expiry to `until` (in the future). */
export async function extendSession(ctx: Context, rawId: string, until: Date): Promise<Session> {
  requireAdmin(ctx);
  const id = await resolveId(ctx.prisma, rawId, 'Session');
  const now = ctx.now();
  future(until, 'input.until', now);
  const session = await ctx.prisma.session.findUnique({ where: { id } });
  if (!session) throw codedError('NOT_FOUND', `No Session ${rawId}`);
  const status = effectiveStatus(session, now);
  if (status !== 'ACTIVE') throw invalidField('input.sessionId', `session ${rawId} is ${status}; only an active session can be extended`);
  return withEvents(ctx.prisma, ctx.events, async (tx, events) => {
    // Compare-and-set on the status: a revocation that lands first wins.
    const { count } = await tx.session.updateMany({ where: { id, status: 'ACTIVE' }, data: { expiresAt: until } });
    if (count === 0) throw codedError('SESSION_ALREADY_REVOKED', `Session ${rawId} is no longer active`);
    events.push({
      type: 'SESSION_EXTENDED',
      identityId: session.identityId,
      sessionId: id,
      ...eventOrigin(ctx),
      details: { previousExpiresAt: session.expiresAt?.toISOString() ?? null, expiresAt: until.toISOString() },
      occurredAt: now,
    });
    return tx.session.findUniqueOrThrow({ where: { id } });
  });
}
