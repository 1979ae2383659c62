// A login as one statement: createSession inserts the session, its devices and its SESSION_CREATED
// event in one data-modifying CTE and returns the payload's session as JSON, shaped by the read
// planner's own session object (its devices read from the rows just inserted). The input is checked
// by the domain's newSession(), the resolver's own rules; an identity that does not exist inserts
// nothing, and the resolver then says so.
import { uuidv7 } from 'uuidv7';
import { parseGlobalId } from '../../domain/global-id.js';
import { newSession, sessionCreatedEvent } from '../../domain/new-session.js';
import { eventOrigin } from '../../events/origin.js';
import { eventInsertSql, writtenCountSql } from '../../events/statement.js';
import type { Context } from '../../context.js';
import { args, Statement, type Build } from '../json.js';
import { sessionObject } from '../objects.js';
import type { Collected } from '../selection.js';
import { payloadJson } from './operation.js';

import { plannedWriteMark } from '../../db/database.js';

export interface PlannedWrite {
  /** The mutation field's JSON (its payload), or undefined: the resolvers answer (they name any problem). */
  payload: string | undefined;
  /** Whether an event was written: the feed is told once the statement has committed. */
  wroteEvents: boolean;
}

const unanswered: PlannedWrite = { payload: undefined, wroteEvents: false };

export async function createSession(field: Collected, ctx: Context, variables: Record<string, unknown>): Promise<PlannedWrite> {
  const sql = new Statement();
  const now = ctx.now();
  const build: Build = { sql, ctx, variables, admin: true, own: null, now: sql.param(now, 'timestamptz'), devicesFrom: 'new_devices' };
  const { input } = args(field, build) as { input: { identityId: unknown } & Parameters<typeof newSession>[0] };
  // Our own `Identity:<uuid>` only; a vendor's id is looked up by the resolvers.
  const parsed = typeof input.identityId === 'string' ? parseGlobalId(input.identityId.trim()) : undefined;
  if (parsed?.typename !== 'Identity') return unanswered;
  let created;
  try {
    created = newSession(input, parsed.id, now);
  } catch {
    return unanswered;
  }
  const p = (value: unknown, cast: string) => sql.param(value, cast);
  const session = field.children!.find((child) => child.name === 'session');
  const sessionJson = session ? sessionObject(session.children!, 's', build) : `''`;
  const devices = created.devices.map((device) => ({ id: uuidv7(), user_agent: device.userAgent ?? null, ip_address: device.ipAddress ?? null, location: device.location ?? null }));
  const statement = `${plannedWriteMark} WITH new_session AS (
  INSERT INTO "public"."sessions" (id, identity_id, type, nickname, expires_at, abandon_at, client_id, actor, last_active_organization_id, aal,
    authentication_methods, authenticated_at, issued_at, last_active_at, signing_public_key, encrypted_signing_key, token_hash, updated_at)
  SELECT ${p(created.id, 'uuid')}, i.id, ${p(created.type, '"CredentialType"')}, ${p(created.nickname ?? null, 'text')}, ${p(created.expiresAt ?? null, 'timestamptz')},
    ${p(created.abandonAt ?? null, 'timestamptz')}, ${p(created.clientId ?? null, 'text')}, ${p(created.actor === undefined ? null : JSON.stringify(created.actor), 'jsonb')},
    ${p(created.lastActiveOrganizationId ?? null, 'text')}, ${p(created.aal ?? null, '"AuthenticatorAssuranceLevel"')}, ${p(JSON.stringify(created.authenticationMethods), 'jsonb')},
    ${build.now}, ${build.now}, ${build.now}, ${p(created.signingPublicKey ? Buffer.from(created.signingPublicKey) : null, 'bytea')},
    ${p(created.encryptedSigningKey ?? null, 'text')}, ${p(Buffer.from(created.tokenHash), 'bytea')}, ${p(new Date(), 'timestamptz')}
  FROM "public"."identities" i WHERE i.id = ${p(created.identityId, 'uuid')}
  RETURNING *
), new_devices AS (
  INSERT INTO "public"."devices" (id, session_id, user_agent, ip_address, location)
  SELECT d.id, n.id, d.user_agent, d.ip_address, d.location
  FROM new_session n, jsonb_to_recordset(${p(JSON.stringify(devices), 'jsonb')}) AS d(id uuid, user_agent text, ip_address text, location text)
  RETURNING *
), new_event AS (
  ${eventInsertSql(sessionCreatedEvent(created, eventOrigin(ctx)), p, { from: 'new_session', sessionIdSql: 'f.id' })}
)
SELECT ${sessionJson} AS session, ${writtenCountSql('new_event')} AS events FROM new_session s`;
  const [row] = await ctx.readQuery(statement, sql.params);
  // No row: the identity does not exist, and nothing was written.
  if (!row) return unanswered;
  const payload = payloadJson(field.children!, (name) => {
    switch (name) {
      case 'session': return String(row.session);
      case 'sessionToken': return JSON.stringify(created.sessionToken);
      case 'encryptedSessionSigningKey': return JSON.stringify(created.encryptedSigningKey ?? null);
      default: return '"CreateSessionPayload"';
    }
  });
  return { payload, wroteEvents: Number(row.events) > 0 };
}
