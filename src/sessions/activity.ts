// recordSessionActivity (Kratos/Clerk "touch"): the session's last active time, the device it was
// used from (upserted by user agent and IP address) and, at most once per interval, its activity
// event — straight to the driver in one short transaction of two statements:
//   1. lock the session row and read its status (checked by the domain's effectiveStatus);
//   2. one data-modifying CTE: touch the session, update or insert the device, write the event
//      when due, and return the rows the payload is resolved from.
// The lock comes first, in a statement of its own, because the second must see the devices that a
// concurrent touch of the same session committed while this one waited: then ten touches at once
// still agree on one device row. One statement could not (its snapshot predates the wait).
import { uuidv7 } from 'uuidv7';
import { sessionRow, sessionRowSql } from '../auth/session-rows.js';
import { plannedWriteMark, type Database } from '../db/database.js';
import type { DeviceData } from '../domain/new-session.js';
import { invalidField } from '../domain/input.js';
import { effectiveStatus } from '../domain/session-status.js';
import type { EventOrigin, CommitListener } from '../events/record.js';
import { eventInsertSql, writtenCountSql } from '../events/statement.js';
import type { EventThrottle } from '../events/throttle.js';
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

const lockSession = `${plannedWriteMark} SELECT identity_id AS "identityId", status, expires_at AS "expiresAt", abandon_at AS "abandonAt"
  FROM "public"."sessions" WHERE id = $1::uuid FOR NO KEY UPDATE`;

export async function recordActivity(
  db: Pick<Database, 'transaction'>,
  throttle: EventThrottle,
  listener: CommitListener | undefined,
  activity: Activity,
): Promise<{ session: Session; device: Device | null }> {
  const { sessionId, device, now } = activity;
  const withDevice = device.userAgent !== undefined || device.ipAddress !== undefined;
  let wroteEvent = false;
  const result = await db.transaction(async (query) => {
    // NO KEY UPDATE, not UPDATE: an event insert's foreign-key check must not wait for it.
    const [locked] = (await query(lockSession, [sessionId])) as { identityId: string; status: SessionStatus; expiresAt: Date | null; abandonAt: Date | null }[];
    if (!locked) throw invalidField('input.sessionId', `no session ${activity.givenId}`);
    const status = effectiveStatus(locked, now);
    if (status !== 'ACTIVE') throw invalidField('input.sessionId', `session ${activity.givenId} is ${status}, not ACTIVE`);
    const params: unknown[] = [];
    const p = (value: unknown, cast: string) => (params.push(value), `$${params.length}::${cast}`);
    const id = p(sessionId, 'uuid');
    const at = p(now, 'timestamptz');
    const organization = activity.organizationId !== undefined ? `, last_active_organization_id = ${p(activity.organizationId, 'text')}` : '';
    const parts = [`touched AS (UPDATE "public"."sessions" s SET last_active_at = ${at}, updated_at = ${p(new Date(), 'timestamptz')}${organization}
  WHERE s.id = ${id} RETURNING ${sessionRowSql('s')})`];
    if (withDevice) {
      const ua = p(device.userAgent ?? null, 'text');
      const ip = p(device.ipAddress ?? null, 'text');
      const location = p(device.location ?? null, 'text');
      parts.push(
        `known AS (SELECT d.id FROM "public"."devices" d WHERE d.session_id = ${id} AND d.user_agent IS NOT DISTINCT FROM ${ua} AND d.ip_address IS NOT DISTINCT FROM ${ip}
  ORDER BY d.last_seen_at DESC LIMIT 1)`,
        `updated AS (UPDATE "public"."devices" d SET last_seen_at = ${at}, location = COALESCE(${location}, d.location) FROM known k WHERE d.id = k.id RETURNING d.*)`,
        `inserted AS (INSERT INTO "public"."devices" (id, session_id, user_agent, ip_address, location, first_seen_at, last_seen_at)
  SELECT ${p(uuidv7(), 'uuid')}, ${id}, ${ua}, ${ip}, ${location}, ${at}, ${at} WHERE NOT EXISTS (SELECT 1 FROM known) RETURNING *)`,
        `seen AS (SELECT ${deviceColumns} FROM updated UNION ALL SELECT ${deviceColumns} FROM inserted)`,
      );
    }
    const eventDue = !throttle.surelyThrottled('SESSION_ACTIVITY_RECORDED', sessionId, now);
    if (eventDue) {
      const event = { type: 'SESSION_ACTIVITY_RECORDED' as const, identityId: locked.identityId, sessionId, ...activity.origin, details: { deviceId: null }, occurredAt: now };
      parts.push(
        `written AS (${eventInsertSql(event, p, {
          from: withDevice ? 'seen' : 'touched',
          detailsSql: withDevice ? `jsonb_build_object('deviceId', 'Device:' || f.id)` : undefined,
          condition: throttle.dueSql('SESSION_ACTIVITY_RECORDED', id, now, p),
        })})`,
      );
    }
    const selectDevice = withDevice ? `(SELECT row_to_json(seen) FROM seen)` : 'NULL';
    const [row] = await query(
      `${plannedWriteMark} WITH ${parts.join(',\n')}
SELECT touched.*, ${selectDevice} AS "sg_device", ${eventDue ? writtenCountSql('written') : '0'} AS "sg_events" FROM touched`,
      params,
    );
    const { sg_device: seen, sg_events: events, ...session } = row!;
    wroteEvent = Number(events) > 0;
    return { session: sessionRow(session), device: seen ? deviceRow(seen as Record<string, unknown>) : null };
  });
  if (wroteEvent) {
    throttle.remember('SESSION_ACTIVITY_RECORDED', sessionId, now);
    listener?.committed();
  }
  return result;
}

/** A device row that travelled as JSON (row_to_json): its times back to Dates. */
function deviceRow(json: Record<string, unknown>): Device {
  return { ...(json as unknown as Device), firstSeenAt: new Date(json.firstSeenAt as string), lastSeenAt: new Date(json.lastSeenAt as string) };
}
