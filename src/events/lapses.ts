// Time-based transitions become events too: nothing writes a session's row when it expires or is
// abandoned (its status is derived, see domain/session-status.ts), so a periodic sweep records
// SESSION_EXPIRED / SESSION_ABANDONED for sessions whose time passed since the last sweep. The
// window's end is kept in maintenance_marks and locked while a sweep runs: with several instances,
// one sweeps each round and each lapse is recorded once.
import type { PrismaClient } from '../generated/prisma/client.js';
import { withEvents, type CommitListener, type EventInput } from './record.js';

const lapseMark = 'session-lapses';

/** The moment a session stopped being active by time, and how, if that is within (from, to]. */
function lapse(session: { expiresAt: Date | null; abandonAt: Date | null }, from: Date, to: Date) {
  const passed = (at: Date | null) => at !== null && at <= to;
  const expired = passed(session.expiresAt);
  const abandoned = passed(session.abandonAt);
  if (!expired && !abandoned) return undefined;
  // Both passed: it ended at whichever came first (as effectiveStatus reads it).
  const byAbandon = abandoned && (!expired || session.abandonAt! < session.expiresAt!);
  const at = byAbandon ? session.abandonAt! : session.expiresAt!;
  if (at <= from) return undefined; // recorded by an earlier sweep
  return { type: byAbandon ? ('SESSION_ABANDONED' as const) : ('SESSION_EXPIRED' as const), at };
}

/** Records the lapses up to `now`; returns how many. Another instance sweeping meanwhile: 0. */
export async function sweepLapses(prisma: PrismaClient, listener: CommitListener | undefined, now: Date): Promise<number> {
  return withEvents(prisma, listener, async (tx, events) => {
    const marks = await tx.$queryRaw<{ reached_at: Date }[]>`
      SELECT reached_at FROM maintenance_marks WHERE name = ${lapseMark} FOR UPDATE SKIP LOCKED`;
    if (marks.length === 0) {
      // Never swept (or another instance holds the mark): start from now.
      await tx.$executeRaw`INSERT INTO maintenance_marks (name, reached_at) VALUES (${lapseMark}, ${now}) ON CONFLICT (name) DO NOTHING`;
      return 0;
    }
    const from = marks[0]!.reached_at;
    if (now <= from) return 0;
    const window = { gt: from, lte: now };
    const candidates = await tx.session.findMany({
      where: { status: 'ACTIVE', OR: [{ expiresAt: window }, { abandonAt: window }] },
      select: { id: true, identityId: true, expiresAt: true, abandonAt: true },
    });
    for (const session of candidates) {
      const ended = lapse(session, from, now);
      if (!ended) continue;
      const event: EventInput = { type: ended.type, identityId: session.identityId, sessionId: session.id, occurredAt: ended.at };
      events.push(event);
    }
    await tx.maintenanceMark.update({ where: { name: lapseMark }, data: { reachedAt: now } });
    return events.length;
  });
}

/** Deletes events older than `retentionMs`, at most `batch` at a time; returns how many went. */
export async function purgeEvents(prisma: PrismaClient, now: Date, retentionMs: number, batch = 1000): Promise<number> {
  const before = new Date(now.getTime() - retentionMs);
  return prisma.$executeRaw`
    DELETE FROM session_events WHERE id IN (
      SELECT id FROM session_events WHERE occurred_at < ${before} LIMIT ${batch})`;
}
