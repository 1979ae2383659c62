// A session's stored status lags behind the clock: nothing rewrites the row the moment it expires.
// The status clients see is derived, so an expired session reads EXPIRED at once.
import type { SessionStatus } from '../generated/prisma/enums.js';

export interface SessionTimes {
  status: SessionStatus;
  expiresAt: Date | null;
  abandonAt: Date | null;
}

export function effectiveStatus(session: SessionTimes, now = new Date()): SessionStatus {
  if (session.status !== 'ACTIVE') return session.status;
  const expired = session.expiresAt !== null && session.expiresAt <= now;
  const abandoned = session.abandonAt !== null && session.abandonAt <= now;
  // Both passed: the session ended at whichever came first.
  if (expired && abandoned) return session.abandonAt! < session.expiresAt! ? 'ABANDONED' : 'EXPIRED';
  if (expired) return 'EXPIRED';
  if (abandoned) return 'ABANDONED';
  return 'ACTIVE';
}
