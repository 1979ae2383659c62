// Every change to a session, identity or credential writes its event in the same transaction as
// the change: an event is never lost (the change committed) nor invented (the change rolled back).
import { uuidv7 } from 'uuidv7';
import { copyJson, copyLine, copyTimestamp } from '../db/copy-text.js';
import type { Database, Query } from '../db/database.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { SessionEventType } from '../generated/prisma/enums.js';

/** The PostgreSQL channel that says "events were committed" (LISTEN/NOTIFY between instances). */
export const eventChannel = 'sessiongraph_events';

/**
 * Tells listening instances that events were committed. Its own statement, after the commit:
 * PostgreSQL serializes the commits of all transactions that notify, so a NOTIFY inside every
 * writing transaction would be a lock every writer takes.
 */
export const notifySql = `SELECT pg_notify('${eventChannel}', '')`;

export interface EventInput {
  type: SessionEventType;
  identityId: string;
  sessionId?: string | null;
  credentialId?: string | null;
  actorSessionId?: string | null;
  actorApiClientId?: string | null;
  reason?: string | null;
  ipAddress?: string | null;
  details?: Record<string, unknown> | null;
  occurredAt: Date;
}

/** Who asked for a change: what every event of one request records about its origin. */
export interface EventOrigin {
  actorSessionId?: string | null;
  actorApiClientId?: string | null;
  ipAddress?: string | null;
}

type Tx = Prisma.TransactionClient;

/**
 * Inserts events inside the caller's transaction. Their sequence numbers come from the column's
 * default, session_event_sequence(): the transaction's id and the event's place in it, so readers
 * can tell which events are final without any lock (see feed.ts and docs/events.md).
 */
export async function recordEvents(tx: Tx, events: readonly EventInput[]): Promise<void> {
  if (events.length === 0) return;
  await tx.$executeRawUnsafe(insertEventsSql, eventsJson(events));
}

const eventsJson = (events: readonly EventInput[]) => JSON.stringify(events.map(eventRow));

// The columns an event is written with; its sequence is the column's default, or reserved (below).
const eventColumns = 'id, type, identity_id, session_id, credential_id, actor_session_id, actor_api_client_id, reason, ip_address, details, occurred_at';

// All the events in one statement, however many: an import writes tens of thousands, and row by
// row through Prisma's createMany they cost the embedded database about a millisecond each.
const insertEventsSql = `
INSERT INTO session_events (${eventColumns})
SELECT r.id, r.type::"SessionEventType", r.identity_id, r.session_id, r.credential_id, r.actor_session_id, r.actor_api_client_id, r.reason,
  r.ip_address, r.details, r.occurred_at
FROM json_to_recordset($1::json) AS r(id uuid, type text, identity_id uuid, session_id uuid, credential_id uuid,
  actor_session_id uuid, actor_api_client_id text, reason text, ip_address text, details jsonb, occurred_at timestamptz, place bigint)
ORDER BY r.place`;

// Absent values are left out of the JSON (json_to_recordset reads a missing key as NULL): an
// import's tens of thousands of events are most of its transaction's text.
const eventRow = (event: EventInput, place: number) => ({
  place,
  id: uuidv7(),
  type: event.type,
  identity_id: event.identityId,
  session_id: event.sessionId ?? undefined,
  credential_id: event.credentialId ?? undefined,
  actor_session_id: event.actorSessionId ?? undefined,
  actor_api_client_id: event.actorApiClientId ?? undefined,
  reason: event.reason ?? undefined,
  ip_address: event.ipAddress ?? undefined,
  details: event.details ?? undefined,
  occurred_at: event.occurredAt,
});

// What the embedded database's import copies into a temporary table (`COPY`) before its
// transaction opens: eventRow's columns, one line an event, its place among the import's events (0,
// 1, …) standing in the sequence column. The transaction then reserves the import's sequences in one
// call (session_event_sequences: the numbers the column's default would give row by row, from the
// same transaction id and counter) and adds each event's place to the first.
/** The columns of eventCopyLine's lines, as a table of session_events' types holds them. */
export const eventCopyColumns = `sequence, ${eventColumns}`;
const reserveSequencesSql = 'SELECT session_event_sequences($1::integer)::text AS first';
const insertStagedEventsSql = (stage: string) =>
  `INSERT INTO session_events (sequence, ${eventColumns}) SELECT $1::bigint + sequence, ${eventColumns} FROM ${stage}`;

/** One event as a line of COPY text in eventCopyColumns' order: its place, then eventRow's values. */
export function eventCopyLine(event: EventInput, place: number): string {
  const { place: _place, details, occurred_at, ...fields } = eventRow(event, 0);
  return copyLine([String(place), ...Object.values(fields), copyJson(details), copyTimestamp(occurred_at)]);
}

/** Events copied (eventCopyLine) into temporary tables before the transaction opened, `count` in all. */
export interface StagedEvents {
  count: number;
  stages: string[];
}

/** Told after a transaction with events committed, so live subscribers hear of them at once. */
export interface CommitListener {
  committed(): void;
}

/**
 * Runs `work` in a transaction and records the events it collected at its end, in the same
 * transaction; tells `listener` once it has committed (without one, e.g. the import command, it
 * notifies the instances itself).
 */
export async function withEvents<T>(
  prisma: PrismaClient,
  listener: CommitListener | undefined,
  work: (tx: Tx, events: EventInput[]) => Promise<T>,
  options?: { timeout?: number; maxWait?: number },
): Promise<T> {
  let recorded = false;
  const result = await prisma.$transaction(async (tx) => {
    const events: EventInput[] = [];
    const value = await work(tx, events);
    await recordEvents(tx, events);
    recorded = events.length > 0;
    return value;
  }, options);
  if (recorded) await announce(listener, () => prisma.$executeRawUnsafe(notifySql));
  return result;
}

/**
 * withEvents() for statements sent straight to the driver (Database.transaction): no Prisma between
 * the caller and the database, for a transaction whose statements carry megabytes (an import), which
 * Prisma would encode as JSON and decode again on the way. Events `staged` are written after those
 * `work` collects.
 */
export async function withEventsOnDriver<T>(
  db: Pick<Database, 'transaction' | 'read'>,
  listener: CommitListener | undefined,
  work: (query: Query, events: EventInput[]) => Promise<T>,
  staged?: StagedEvents,
): Promise<T> {
  let recorded = false;
  const result = await db.transaction(async (query) => {
    const events: EventInput[] = [];
    const value = await work(query, events);
    if (events.length > 0) await query(insertEventsSql, [eventsJson(events)]);
    if (staged && staged.count > 0) {
      const [reserved] = (await query(reserveSequencesSql, [staged.count])) as { first: string }[];
      for (const stage of staged.stages) await query(insertStagedEventsSql(stage), [reserved!.first]);
    }
    recorded = events.length > 0 || (staged?.count ?? 0) > 0;
    return value;
  });
  if (recorded) await announce(listener, () => db.read(notifySql, []));
  return result;
}

/** After a commit that wrote events: tells the listener, or (without one) the other instances. */
async function announce(listener: CommitListener | undefined, notify: () => Promise<unknown>): Promise<void> {
  if (listener) listener.committed();
  // Best effort: an instance that misses it reads the events at its next poll.
  else await notify().catch(() => {});
}

/**
 * Whether a throttled event (activity, token issued) of this type is due for the session: none
 * within `intervalMs` before `now`. One indexed look at the session's newest events.
 */
export async function throttledEventDue(tx: Tx, type: SessionEventType, sessionId: string, now: Date, intervalMs: number): Promise<boolean> {
  if (intervalMs <= 0) return true;
  const recent = await tx.sessionEvent.findFirst({
    where: { sessionId, type, occurredAt: { gt: new Date(now.getTime() - intervalMs) } },
    select: { id: true },
  });
  return recent === null;
}
