// Which events end a session's standing, and which restore it: one rule for the subscriptions that
// end with their session (feed.ts) and for the JWT revocation set every instance keeps
// (tokens/revocations.ts).
import type { SessionEvent } from '../generated/prisma/client.js';

/**
 * What an event says about who may still act: a session ended (revoked, expired, abandoned, or
 * re-imported as anything but active) or restored (re-imported as active); an identity's sessions
 * ended (deactivated) or restored (activated again). Undefined for every other event.
 */
export type Standing = { of: 'session'; id: string; ends: boolean } | { of: 'identity'; id: string; ends: boolean };

/** The event types standingChange() answers for (the rest never change a standing). */
export const standingEventTypes = ['SESSION_REVOKED', 'SESSION_EXPIRED', 'SESSION_ABANDONED', 'SESSION_IMPORTED', 'IDENTITY_STATE_CHANGED'] as const;

export function standingChange(event: Pick<SessionEvent, 'type' | 'sessionId' | 'identityId' | 'details'>): Standing | undefined {
  const details = event.details as { state?: string; status?: string } | null;
  switch (event.type) {
    case 'SESSION_REVOKED':
    case 'SESSION_EXPIRED':
    case 'SESSION_ABANDONED':
      return event.sessionId ? { of: 'session', id: event.sessionId, ends: true } : undefined;
    case 'SESSION_IMPORTED':
      // A re-import that brought the vendor's "revoked" (or ended, removed, …), or "active" again.
      return event.sessionId ? { of: 'session', id: event.sessionId, ends: details?.status !== 'ACTIVE' } : undefined;
    case 'IDENTITY_STATE_CHANGED':
      if (details?.state === 'INACTIVE') return { of: 'identity', id: event.identityId, ends: true };
      return details?.state === 'ACTIVE' ? { of: 'identity', id: event.identityId, ends: false } : undefined;
    default:
      return undefined;
  }
}

/** Whether the event ends this session (or, by its identity's deactivation, every session of it). */
export function endsSession(event: Pick<SessionEvent, 'type' | 'sessionId' | 'identityId' | 'details'>, sessionId: string | undefined, identityId: string | undefined): boolean {
  if (!sessionId) return false;
  const standing = standingChange(event);
  if (!standing?.ends) return false;
  return standing.of === 'session' ? standing.id === sessionId : standing.id === identityId;
}
