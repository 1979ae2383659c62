// Throttled events — at most one SESSION_ACTIVITY_RECORDED and one SESSION_TOKEN_ISSUED per session
// per EVENT_ACTIVITY_INTERVAL_SECONDS (frontends mint a token a minute) — written without a read
// first: one statement inserts the event only when the session has none of its type within the
// interval, and says when the newest one it found was. What this instance has written or found is
// remembered, so a mint that is surely throttled costs no statement at all; one that is not sure
// asks the database, which holds what every instance wrote.
import { plannedWriteMark, type Query } from '../db/database.js';
import type { CommitListener, EventInput } from './record.js';
import { eventInsertSql, writtenCountSql, type Param } from './statement.js';

/** A throttled event: it names its session; its identity may come from the statement's rows (insertSql's identityIdSql). */
export type ThrottledEvent = Omit<EventInput, 'identityId'> & { identityId?: string; sessionId: string };

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

  /**
   * The CTEs of a statement that writes `event` (it names its session) only when none of its type
   * lies within the interval before its occurredAt — `throttled_recent` (when the newest such event
   * occurred) and `throttled_event` (the insert) — and the SELECT's values that settle() reads. With
   * `from`, the event is written once for each row of that CTE (alias `f`, e.g. the session a lookup
   * found), where `condition` holds; `identityIdSql` and `detailsSql` take those values from SQL.
   */
  insertSql(event: ThrottledEvent, param: Param, options: { from?: string; identityIdSql?: string; detailsSql?: string; condition?: string } = {}): { ctes: string; values: string } {
    const conditions = options.condition ? [options.condition] : [];
    let recent = '';
    if (this.intervalMs > 0) {
      const since = new Date(event.occurredAt.getTime() - this.intervalMs);
      recent = `throttled_recent AS (SELECT max(e.occurred_at) AS at FROM "public"."session_events" e
  WHERE e.session_id = ${param(event.sessionId, 'uuid')} AND e.type = ${param(event.type, '"SessionEventType"')} AND e.occurred_at > ${param(since, 'timestamptz')}),
`;
      conditions.push('(SELECT at FROM throttled_recent) IS NULL');
    }
    const insert = eventInsertSql(event, param, { ...options, condition: conditions.join(' AND ') || undefined });
    return {
      ctes: `${recent}throttled_event AS (${insert})`,
      values: `${recent ? '(SELECT at FROM throttled_recent)' : 'NULL'} AS "sg_recentAt", ${writtenCountSql('throttled_event')} AS "sg_events"`,
    };
  }

  /** After a statement of insertSql(): remembers what it wrote or found, tells `listener` when it wrote; whether it wrote. */
  settle(event: ThrottledEvent, row: Record<string, unknown> | undefined, listener?: CommitListener): boolean {
    const wrote = Number(row?.sg_events) > 0;
    if (this.intervalMs > 0) {
      const found = row?.sg_recentAt ? new Date(row.sg_recentAt as string) : undefined;
      if (wrote) this.remember(event.type, event.sessionId, event.occurredAt);
      else if (found) this.remember(event.type, event.sessionId, found);
    }
    if (wrote) listener?.committed();
    return wrote;
  }

  /**
   * Writes `event` (it names its session) unless one of its type lies within the interval before its
   * occurredAt; tells `listener` when it wrote. Resolves to whether it wrote.
   */
  async record(query: Query, event: EventInput & { sessionId: string }, listener?: CommitListener): Promise<boolean> {
    if (this.surelyThrottled(event.type, event.sessionId, event.occurredAt)) return false;
    const params: unknown[] = [];
    const param = (value: unknown, cast: string) => (params.push(value), `$${params.length}::${cast}`);
    const { ctes, values } = this.insertSql(event, param);
    const [row] = await query(`${plannedWriteMark} WITH ${ctes} SELECT ${values}`, params);
    return this.settle(event, row, listener);
  }
}
