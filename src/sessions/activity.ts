// recordSessionActivity (Kratos/Clerk "touch"): the session's last active time, the device it was
// used from (upserted by user agent and IP address) and, at most once per interval, its activity
// event — straight to the driver in one data-modifying statement that locks the session row, checks
// its status, touches the session, updates or inserts the device, writes the event when due, and
// returns the rows the payload is resolved from.
//
// Ten touches of one session at once must still agree on one device row: each must see the devices
// that a touch committed while it waited for the session's lock, which a statement whose snapshot
// predates the wait cannot. So the statement writes only when the session row it locked is the
// version its snapshot sees ("fresh": no touch committed since it began); otherwise it writes
// nothing and is sent again with a new snapshot. After a few such tries (a session touched
// constantly) the touch takes the long way: a transaction that locks the session first, then sends
// the same statement, which then always sees what was committed before the lock.
import { uuidv7 } from 'uuidv7';
import { sessionRow, sessionRowSql } from '../auth/session-rows.js';
import { plannedWriteMark, type Database, type Query } from '../db/database.js';
import type { DeviceData } from '../domain/new-session.js';
import { invalidField } from '../domain/input.js';
import { activeSql, effectiveStatus } from '../domain/session-status.js';
import type { EventOrigin, CommitListener } from '../events/record.js';
import type { EventThrottle, ThrottledEvent } from '../events/throttle.js';
import type { Device, Session } from '../generated/prisma/client.js';
import type { SessionStatus } from '../generated/prisma/enums.js';

export interface Activity {
  sessionId: string;
  /** The id as the caller gave it, for the error that names it. */
  givenId: string;
  device: DeviceData;
  organizationId: string | undefined;
  origin: EventOrigin;
  now: Date;
}

const deviceColumns = `id, session_id AS "sessionId", external_id AS "externalId", ip_address AS "ipAddress", location, user_agent AS "userAgent",
  first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt"`;

// NO KEY UPDATE, not UPDATE: an event insert's foreign-key check must not wait for it.
const lockSession = `${plannedWriteMark} SELECT 1 FROM "public"."sessions" WHERE id = $1::uuid FOR NO KEY UPDATE`;

// Tries of the single statement before the long way.
const freshTries = 3;

/**
 * The touch as one statement. `locked` locks the session row and says whether it is fresh (the
 * version locked is the one this statement's snapshot sees, by its xmin; a lock taken earlier in
 * the same transaction keeps it so); everything else is written only when it is fresh and active.
 */
function touchStatement(throttle: EventThrottle, activity: Activity): { sql: string; params: unknown[]; event: ThrottledEvent | undefined } {
  const { sessionId, device, now } = activity;
  const withDevice = device.userAgent !== undefined || device.ipAddress !== undefined;
  const params: unknown[] = [];
  const p = (value: unknown, cast: string) => (params.push(value), `$${params.length}::${cast}`);
  const id = p(sessionId, 'uuid');
  const at = p(now, 'timestamptz');
  const organization = activity.organizationId !== undefined ? `, last_active_organization_id = ${p(activity.organizationId, 'text')}` : '';
  const parts = [
    `locked AS (SELECT l.identity_id, l.status, l.expires_at AS "expiresAt", l.abandon_at AS "abandonAt",
    l.xmin::text = (SELECT v.xmin::text FROM "public"."sessions" v WHERE v.id = ${id}) AS fresh, ${activeSql('l', at)} AS active
  FROM "public"."sessions" l WHERE l.id = ${id} FOR NO KEY UPDATE)`,
    `go AS (SELECT 1 FROM locked WHERE fresh AND active)`,
    `touched AS (UPDATE "public"."sessions" s SET last_active_at = ${at}, updated_at = ${p(new Date(), 'timestamptz')}${organization}
  WHERE s.id = ${id} AND EXISTS (SELECT 1 FROM go) RETURNING ${sessionRowSql('s')})`,
  ];
  if (withDevice) {
    const ua = p(device.userAgent ?? null, 'text');
    const ip = p(device.ipAddress ?? null, 'text');
    const location = p(device.location ?? null, 'text');
    parts.push(
      `known AS (SELECT d.id FROM "public"."devices" d WHERE d.session_id = ${id} AND d.user_agent IS NOT DISTINCT FROM ${ua} AND d.ip_address IS NOT DISTINCT FROM ${ip}
  AND EXISTS (SELECT 1 FROM go) ORDER BY d.last_seen_at DESC LIMIT 1)`,
      `updated AS (UPDATE "public"."devices" d SET last_seen_at = ${at}, location = COALESCE(${location}, d.location) FROM known k WHERE d.id = k.id RETURNING d.*)`,
      `inserted AS (INSERT INTO "public"."devices" (id, session_id, user_agent, ip_address, location, first_seen_at, last_seen_at)
  SELECT ${p(uuidv7(), 'uuid')}, ${id}, ${ua}, ${ip}, ${location}, ${at}, ${at} WHERE EXISTS (SELECT 1 FROM go) AND NOT EXISTS (SELECT 1 FROM known) RETURNING *)`,
      `seen AS (SELECT ${deviceColumns} FROM updated UNION ALL SELECT ${deviceColumns} FROM inserted)`,
    );
  }
  // Its identity is the locked session's; at most one per interval (the throttle's rule), none when this instance knows it is not due.
  const event = { type: 'SESSION_ACTIVITY_RECORDED' as const, sessionId, ...activity.origin, details: { deviceId: null }, occurredAt: now };
  const eventDue = !throttle.surelyThrottled(event.type, sessionId, now);
  let eventValues = `NULL AS "sg_recentAt", 0 AS "sg_events"`;
  if (eventDue) {
    const { ctes, values } = throttle.insertSql(event, p, {
      from: withDevice ? 'seen' : 'touched',
      identityIdSql: '(SELECT identity_id FROM locked)',
      detailsSql: withDevice ? `jsonb_build_object('deviceId', 'Device:' || f.id)` : undefined,
    });
    parts.push(ctes);
    eventValues = values;
  }
  const selectDevice = withDevice ? `(SELECT row_to_json(seen) FROM seen)` : 'NULL';
  const sql = `${plannedWriteMark} WITH ${parts.join(',\n')}
SELECT row_to_json(locked) AS "sg_locked", ${selectDevice} AS "sg_device", ${eventValues}, touched.*
  FROM locked LEFT JOIN touched ON true`;
  return { sql, params, event: eventDue ? event : undefined };
}

type Touched = { session: Session; device: Device | null; settle: () => void } | 'stale';

/** Sends the touch's statement; 'stale' when it wrote nothing because the session was touched since its snapshot. */
async function touch(query: Query, throttle: EventThrottle, listener: CommitListener | undefined, activity: Activity): Promise<Touched> {
  const { sql, params, event } = touchStatement(throttle, activity);
  const [row] = await query(sql, params);
  if (!row) throw invalidField('input.sessionId', `no session ${activity.givenId}`);
  const { sg_locked: locked, sg_device: seen, sg_events: events, sg_recentAt: recentAt, ...session } = row as Record<string, unknown> & { sg_locked: Record<string, unknown> };
  const times = { status: locked.status as SessionStatus, expiresAt: date(locked.expiresAt), abandonAt: date(locked.abandonAt) };
  const status = effectiveStatus(times, activity.now);
  if (status !== 'ACTIVE') throw invalidField('input.sessionId', `session ${activity.givenId} is ${status}, not ACTIVE`);
  if (!locked.fresh) return 'stale';
  return {
    session: sessionRow(session),
    device: seen ? deviceRow(seen as Record<string, unknown>) : null,
    // Once committed: the throttle remembers, the feed hears of the event.
    settle: () => event && throttle.settle(event, { sg_events: events, sg_recentAt: recentAt }, listener),
  };
}

const date = (value: unknown) => (value == null ? null : new Date(value as string));

export async function recordActivity(
  db: Pick<Database, 'transaction'> & { readQuery: Query },
  throttle: EventThrottle,
  listener: CommitListener | undefined,
  activity: Activity,
): Promise<{ session: Session; device: Device | null }> {
  let touched: Touched = 'stale';
  for (let attempt = 0; attempt < freshTries && touched === 'stale'; attempt++) touched = await touch(db.readQuery, throttle, listener, activity);
  if (touched === 'stale') {
    touched = await db.transaction(async (query) => {
      await query(lockSession, [activity.sessionId]);
      return touch(query, throttle, listener, activity);
    });
  }
  if (touched === 'stale') throw new Error('a locked session read as touched since the snapshot');
  touched.settle();
  return { session: touched.session, device: touched.device };
}

/** A device row that travelled as JSON (row_to_json): its times back to Dates. */
function deviceRow(json: Record<string, unknown>): Device {
  return { ...(json as unknown as Device), firstSeenAt: new Date(json.firstSeenAt as string), lastSeenAt: new Date(json.lastSeenAt as string) };
}
