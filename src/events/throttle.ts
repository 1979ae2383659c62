// Throttled events — at most one SESSION_ACTIVITY_RECORDED and one SESSION_TOKEN_ISSUED per session
// per EVENT_ACTIVITY_INTERVAL_SECONDS (frontends mint a token a minute) — written without a read
// first: one statement inserts the event only when the session has none of its type within the
// interval, and says when the newest one it found was. What this instance has written or found is
// remembered, so a mint that is surely throttled costs no statement at all; one that is not sure
// asks the database, which holds what every instance wrote.
import { plannedWriteMark, type Query } from '../db/database.js';
import type { CommitListener, EventInput } from './record.js';
import { eventInsertSql, writtenCountSql, type Param } from './statement.js';

// A bound on what is remembered: past it the memory starts again (the database still answers).
const maxRemembered = 100_000;

export class EventThrottle {
  /** `${type}:${sessionId}` → when an event known to be stored occurred (ms). */
  private known = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** Whether an event of this type is known to lie within the interval before `at`: writing another is surely not due. */
  surelyThrottled(type: EventInput['type'], sessionId: string, at: Date): boolean {
    const remembered = this.known.get(`${type}:${sessionId}`);
    return this.intervalMs > 0 && remembered !== undefined && remembered > at.getTime() - this.intervalMs;
  }

  /** Remembers that an event of this type is stored, occurred at `at`. */
  remember(type: EventInput['type'], sessionId: string, at: Date): void {
    if (this.intervalMs <= 0) return;
    if (this.known.size >= maxRemembered) this.known.clear();
    const key = `${type}:${sessionId}`;
    this.known.set(key, Math.max(at.getTime(), this.known.get(key) ?? -Infinity));
  }

  /** SQL that holds when the event is due (none of its type within the interval), for a statement that writes it only then. */
  dueSql(type: EventInput['type'], sessionIdSql: string, at: Date, param: Param): string {
    if (this.intervalMs <= 0) return 'true';
    return `NOT EXISTS (SELECT 1 FROM "public"."session_events" recent WHERE recent.session_id = ${sessionIdSql} AND recent.type = ${param(type, '"SessionEventType"')}
      AND recent.occurred_at > ${param(new Date(at.getTime() - this.intervalMs), 'timestamptz')})`;
  }

  /**
   * Writes `event` (it names its session) unless one of its type lies within the interval before its
   * occurredAt; tells `listener` when it wrote. Resolves to whether it wrote.
   */
  async record(query: Query, event: EventInput & { sessionId: string }, listener?: CommitListener): Promise<boolean> {
    const at = event.occurredAt.getTime();
    const key = `${event.type}:${event.sessionId}`;
    const since = at - this.intervalMs;
    const remembered = this.known.get(key);
    // The same condition the statement checks: an event later than `since` is stored.
    if (this.intervalMs > 0 && remembered !== undefined && remembered > since) return false;
    const params: unknown[] = [];
    const param = (value: unknown, cast: string) => (params.push(value), `$${params.length}::${cast}`);
    const statement =
      this.intervalMs > 0
        ? `${plannedWriteMark} WITH recent AS (SELECT max(e.occurred_at) AS at FROM "public"."session_events" e
  WHERE e.session_id = ${param(event.sessionId, 'uuid')} AND e.type = ${param(event.type, '"SessionEventType"')} AND e.occurred_at > ${param(new Date(since), 'timestamptz')}),
written AS (${eventInsertSql(event, param, { from: 'recent', condition: 'f.at IS NULL' })})
SELECT (SELECT at FROM recent) AS "recentAt", ${writtenCountSql('written')} AS events`
        : `${plannedWriteMark} WITH written AS (${eventInsertSql(event, param)}) SELECT NULL AS "recentAt", ${writtenCountSql('written')} AS events`;
    const [row] = await query(statement, params);
    const wrote = Number(row?.events) > 0;
    if (this.intervalMs > 0) {
      if (this.known.size >= maxRemembered) this.known.clear();
      const found = row?.recentAt ? new Date(row.recentAt as string).getTime() : undefined;
      this.known.set(key, wrote ? at : Math.max(found ?? -Infinity, remembered ?? -Infinity));
    }
    if (wrote) listener?.committed();
    return wrote;
  }
}
