// Kratos' own sign-out of other devices (disableMySession, disableMyOtherSessions): a session revokes
// sessions of its identity without a signature. Only a session that holds no signing key may: one
// that holds a key must sign (Grid's rule wins over Kratos' where a key exists).
import { forbidden, requireCaller } from '../auth/guards.js';
import type { Context } from '../context.js';
import { encodeGlobalId } from '../domain/global-id.js';
import { badUserInput, codedError } from '../errors.js';
import { eventOrigin } from '../events/origin.js';
import { withEvents, type EventInput } from '../events/record.js';
import type { Session } from '../generated/prisma/client.js';

/** The calling session: only a session signs its own identity's sessions out here. */
function sessionCaller(ctx: Context): { sessionId: string; identityId: string } {
  const caller = requireCaller(ctx);
  if (caller.kind !== 'session') throw forbidden('Signing out one\'s own sessions needs a session, not an API token');
  return caller;
}

/** Refuses the unsigned sign-out to a session that holds a signing key: it must sign. */
function requireKeyless(own: Pick<Session, 'signingPublicKey'> | null): void {
  if (own?.signingPublicKey) {
    throw codedError(
      'SIGNED_FLOW_REQUIRED',
      'This session holds a signing key, so signing out another session needs its signature: use the signed flow (revokeSession or revokeOtherSessions, then confirmChallenge)',
      { http: { status: 403 } },
    );
  }
}

/**
 * Revokes one other session of the caller's identity. An id the caller may not see reads exactly
 * like one that does not exist: NOT_FOUND, before any refusal that only a visible session can earn
 * (the signed flow's 403, the current session's BAD_USER_INPUT).
 */
export async function revokeOwnSession(ctx: Context, targetId: string): Promise<void> {
  const caller = sessionCaller(ctx);
  // One batched read for both: the caller's own session (its key) and the target.
  const [own, target] = await Promise.all([ctx.loaders.session.load(caller.sessionId), ctx.loaders.session.load(targetId)]);
  if (!target || target.identityId !== caller.identityId) throw codedError('NOT_FOUND', `No Session ${encodeGlobalId('Session', targetId)}`);
  requireKeyless(own);
  if (targetId === caller.sessionId) throw badUserInput('The current session cannot be revoked here: sign out instead', { field: 'id' });
  const now = ctx.now();
  const revoked = await withEvents(ctx.prisma, ctx.events, async (tx, events) => {
    // Revoking what is already inactive changes nothing and says so with no event, as Kratos does.
    const { count } = await tx.session.updateMany({
      where: { id: targetId, identityId: caller.identityId, status: 'ACTIVE' },
      data: { status: 'REVOKED', revokedAt: now },
    });
    if (count > 0) events.push({ type: 'SESSION_REVOKED', identityId: caller.identityId, sessionId: targetId, ...eventOrigin(ctx), occurredAt: now });
    return count;
  });
  ctx.metrics.revocations.inc({ kind: 'unsigned_own' }, revoked);
}

/** Revokes every other active session of the caller's identity; how many. */
export async function revokeOwnOtherSessions(ctx: Context): Promise<number> {
  const caller = sessionCaller(ctx);
  requireKeyless(await ctx.loaders.session.load(caller.sessionId));
  const now = ctx.now();
  const revoked = await withEvents(ctx.prisma, ctx.events, async (tx, events) => {
    const others = { identityId: caller.identityId, id: { not: caller.sessionId }, status: 'ACTIVE' as const };
    const ids = (await tx.session.findMany({ where: others, select: { id: true } })).map((s) => s.id);
    await tx.session.updateMany({ where: { ...others, id: { in: ids } }, data: { status: 'REVOKED', revokedAt: now } });
    const origin = { ...eventOrigin(ctx), identityId: caller.identityId, occurredAt: now };
    const written: EventInput[] = ids.map((id) => ({ ...origin, type: 'SESSION_REVOKED', sessionId: id }));
    written.push({
      ...origin,
      type: 'OTHER_SESSIONS_REVOKED',
      sessionId: caller.sessionId,
      details: { revokedCount: ids.length, revokedSessionIds: ids.map((id) => encodeGlobalId('Session', id)) },
    });
    events.push(...written);
    return ids.length;
  });
  ctx.metrics.revocations.inc({ kind: 'unsigned_own' }, revoked);
  return revoked;
}
