// Events written by a planned write: the same rows recordEvents() writes, as a part of the
// statement that makes the change (a data-modifying CTE), so the change and its event commit
// together in one statement. The sequence (and whatever else the table fills by default) comes from
// the table's defaults, as for every other writer.
import { uuidv7 } from 'uuidv7';
import type { EventInput } from './record.js';

/** Adds a value to the statement's parameters and returns its placeholder (`$3::uuid`). */
export type Param = (value: unknown, cast: string) => string;

const columns = 'id, type, identity_id, session_id, credential_id, actor_session_id, actor_api_client_id, reason, ip_address, details, occurred_at';

/**
 * An INSERT of the event (RETURNING its id), once for each row of `from` when given — a CTE of the
 * statement whose rows the event needs, e.g. the session a login inserted — or once outright.
 * `identityIdSql`, `sessionIdSql` and `detailsSql` override those values with SQL over `from` (its alias is `f`); `condition` is
 * SQL that must hold for the event to be written (a throttle).
 */
export function eventInsertSql(event: Omit<EventInput, 'identityId'> & { identityId?: string }, param: Param, options: { from?: string; identityIdSql?: string; sessionIdSql?: string; detailsSql?: string; condition?: string } = {}): string {
  const values = [
    param(uuidv7(), 'uuid'),
    param(event.type, '"SessionEventType"'),
    options.identityIdSql ?? param(event.identityId ?? null, 'uuid'),
    options.sessionIdSql ?? param(event.sessionId ?? null, 'uuid'),
    param(event.credentialId ?? null, 'uuid'),
    param(event.actorSessionId ?? null, 'uuid'),
    param(event.actorApiClientId ?? null, 'text'),
    param(event.reason ?? null, 'text'),
    param(event.ipAddress ?? null, 'text'),
    options.detailsSql ?? param(event.details == null ? null : JSON.stringify(event.details), 'jsonb'),
    param(event.occurredAt, 'timestamptz'),
  ];
  const from = options.from ? ` FROM ${options.from} f` : '';
  const where = options.condition ? ` WHERE ${options.condition}` : '';
  return `INSERT INTO "public"."session_events" (${columns}) SELECT ${values.join(', ')}${from}${where} RETURNING id`;
}

/**
 * How many events the CTE `inserted` wrote: SQL for a value of the statement's SELECT. The caller
 * tells the feed when it is more than none, and the feed notifies other instances after the commit
 * (a NOTIFY inside the statement would serialize the commits of all writers: record.ts).
 */
export const writtenCountSql = (inserted: string) => `(SELECT count(*) FROM ${inserted})`;
