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

/** When a session ends unless something extends it: the earlier of its expiry and abandonment; null with neither. */
export function sessionEndsAt(session: Pick<SessionTimes, 'expiresAt' | 'abandonAt'>): Date | null {
  const { expiresAt, abandonAt } = session;
  if (expiresAt && abandonAt) return abandonAt < expiresAt ? abandonAt : expiresAt;
  return expiresAt ?? abandonAt;
}

type Fields = { expiresAt: unknown; abandonAt: unknown };
type Where = Record<string, unknown>;

/**
 * The Prisma condition for sessions whose effective status (above) is `status` at `now`, so that
 * filtering and reading always agree. `fields` are the client's column references
 * (`prisma.session.fields`), needed where expiry and abandonment both passed.
 */
export function effectiveStatusWhere(status: SessionStatus, now: Date, fields: Fields): Where {
  const stillOpen = (column: 'expiresAt' | 'abandonAt') => ({ OR: [{ [column]: null }, { [column]: { gt: now } }] });
  switch (status) {
    case 'ACTIVE':
      return { status: 'ACTIVE', AND: [stillOpen('expiresAt'), stillOpen('abandonAt')] };
    case 'EXPIRED':
      return {
        OR: [
          { status: 'EXPIRED' },
          {
            status: 'ACTIVE',
            expiresAt: { lte: now },
            OR: [{ abandonAt: null }, { abandonAt: { gt: now } }, { abandonAt: { gte: fields.expiresAt } }],
          },
        ],
      };
    case 'ABANDONED':
      return {
        OR: [
          { status: 'ABANDONED' },
          {
            status: 'ACTIVE',
            abandonAt: { lte: now },
            OR: [{ expiresAt: null }, { expiresAt: { gt: now } }, { abandonAt: { lt: fields.expiresAt } }],
          },
        ],
      };
    default:
      return { status };
  }
}

// The same rules as SQL over a session row's alias `s`, for statements written by hand (planned
// reads, the session caller's lookup); `now` is SQL for the clock (a parameter).

/** effectiveStatus() as SQL text. */
export function effectiveStatusSql(s: string, now: string): string {
  return `(CASE WHEN ${s}.status <> 'ACTIVE' THEN ${s}.status::text
    WHEN ${s}.expires_at <= ${now} AND ${s}.abandon_at <= ${now} THEN CASE WHEN ${s}.abandon_at < ${s}.expires_at THEN 'ABANDONED' ELSE 'EXPIRED' END
    WHEN ${s}.expires_at <= ${now} THEN 'EXPIRED' WHEN ${s}.abandon_at <= ${now} THEN 'ABANDONED' ELSE 'ACTIVE' END)`;
}

/** sessionEndsAt() as SQL over the two columns (SQL text each); NULL with neither. */
export function sessionEndsAtSql(expiresAt: string, abandonAt: string): string {
  return `LEAST(${expiresAt}, ${abandonAt})`;
}

/** Whether effectiveStatus() is ACTIVE, in a form an index can serve (effectiveStatusWhere('ACTIVE')). */
export function activeSql(s: string, now: string): string {
  return `(${s}.status = 'ACTIVE' AND (${s}.expires_at IS NULL OR ${s}.expires_at > ${now}) AND (${s}.abandon_at IS NULL OR ${s}.abandon_at > ${now}))`;
}
