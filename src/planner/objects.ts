// The objects a planned statement shapes from rows: identities, sessions, devices and their
// authentication methods, each field as the resolvers answer it (admin-only fields hidden from
// sessions, effective statuses worked out in SQL).
import type { SessionStatus } from '../generated/prisma/enums.js';
import { effectiveStatusSql } from '../domain/session-status.js';
import { derivedAalSql } from '../domain/authentication-method.js';
import type { ConnectionArgs } from '../schema/pagination.js';
import { sessionConnection } from './connections.js';
import { args, globalId, hidden, isoTime, json, jsonOrNull, list, literal, object, plain, present, text, typename, type Build } from './json.js';
import { Unplannable, type Collected } from './selection.js';

export function identityObject(fields: Collected[], i: string, build: Build): string {
  return object(fields, (field) => {
    switch (field.name) {
      case '__typename': return typename('Identity');
      case 'id': return present(globalId('Identity', `${i}.id`));
      case 'externalSource': return plain(`${i}.external_source::text`);
      case 'externalId': return text(`${i}.external_id`);
      case 'schemaId': return text(`${i}.schema_id`);
      case 'schemaUrl': return text(`${i}.schema_url`);
      case 'traits': return jsonOrNull(`${i}.traits`);
      case 'state': return present(`${i}.state::text`);
      case 'stateChangedAt': return plain(isoTime(`${i}.state_changed_at`));
      case 'organizationId': return text(`${i}.organization_id`);
      case 'metadataPublic': return jsonOrNull(`${i}.metadata_public`);
      case 'metadataAdmin': return build.admin ? jsonOrNull(`${i}.metadata_admin`) : hidden;
      case 'createdAt': return present(isoTime(`${i}.created_at`));
      case 'updatedAt': return present(isoTime(`${i}.updated_at`));
      case 'sessions': {
        const a = args(field, build) as ConnectionArgs & { status?: SessionStatus[] | null; active?: boolean | null };
        return json(sessionConnection(field.children!, a, [`{s}.identity_id = ${i}.id`], build, { status: a.status, active: a.active }));
      }
      default: throw new Unplannable();
    }
  });
}

/**
 * A session's JSON. `status` is given when the rows' filter leaves them only one (a page of
 * `active: true` sessions is all ACTIVE): it is then written as a literal, not worked out per row.
 */
export function sessionObject(fields: Collected[], s: string, build: Build, status?: SessionStatus): string {
  return object(fields, (field) => {
    switch (field.name) {
      case '__typename': return typename('Session');
      case 'id': return present(globalId('Session', `${s}.id`));
      case 'externalSource': return plain(`${s}.external_source::text`);
      case 'externalId': return text(`${s}.external_id`);
      case 'type': return plain(`${s}.type::text`);
      case 'nickname': return text(`${s}.nickname`);
      case 'status': return status ? literal(JSON.stringify(status)) : present(effectiveStatusSql(s, build.now));
      case 'active': return status ? literal(String(status === 'ACTIVE')) : jsonOrNull(`${effectiveStatusSql(s, build.now)} = 'ACTIVE'`);
      case 'aal': return plain(derivedAalSql(s));
      case 'clientId': return text(`${s}.client_id`);
      case 'actor': return jsonOrNull(`${s}.actor`);
      case 'lastActiveOrganizationId': return text(`${s}.last_active_organization_id`);
      case 'lastActiveAt': return plain(isoTime(`${s}.last_active_at`));
      case 'issuedAt': return present(isoTime(`${s}.issued_at`));
      case 'authenticatedAt': return plain(isoTime(`${s}.authenticated_at`));
      case 'createdAt': return present(isoTime(`${s}.created_at`));
      case 'updatedAt': return present(isoTime(`${s}.updated_at`));
      case 'expiresAt': return plain(isoTime(`${s}.expires_at`));
      case 'abandonAt': return plain(isoTime(`${s}.abandon_at`));
      case 'revokedAt': return plain(isoTime(`${s}.revoked_at`));
      case 'revokedBySessionId': return plain(globalId('Session', `${s}.revoked_by_session_id`));
      case 'revocationReason': return build.admin ? text(`${s}.revocation_reason`) : hidden;
      case 'tokenized': return text(`${s}.tokenized`);
      case 'signingPublicKey': return plain(`encode(${s}.signing_public_key, 'hex')`);
      case 'authenticationMethods': return json(authenticationMethods(field.children!, s));
      case 'devices': {
        const d = build.sql.alias('d');
        return list(`SELECT ${deviceObject(field.children!, d, build)} FROM ${build.devicesFrom ?? '"public"."devices"'} ${d} WHERE ${d}.session_id = ${s}.id ORDER BY ${d}.last_seen_at DESC, ${d}.id DESC`);
      }
      case 'identity': {
        if (onlyId(field)) return json(idObject(field.children!, 'Identity', `${s}.identity_id`));
        const i = build.sql.alias('i');
        return json(`COALESCE((SELECT ${identityObject(field.children!, i, build)} FROM "public"."identities" ${i} WHERE ${i}.id = ${s}.identity_id), 'null')`);
      }
      default: throw new Unplannable();
    }
  });
}

/**
 * A parent's required object (its foreign key is NOT NULL, and whoever sees the child sees the
 * parent) selected only for its id: written from the key, without reading the parent's row.
 */
export const onlyId = (field: Collected) => field.children!.every((child) => child.name === 'id' || child.name === '__typename');
export const idObject = (fields: Collected[], type: string, key: string) =>
  object(fields, (field) => (field.name === 'id' ? present(globalId(type, key)) : typename(type)));

export function deviceObject(fields: Collected[], d: string, build: Build): string {
  return object(fields, (field) => {
    switch (field.name) {
      case '__typename': return typename('Device');
      case 'id': return present(globalId('Device', `${d}.id`));
      case 'externalId': return text(`${d}.external_id`);
      case 'ipAddress': return text(`${d}.ip_address`);
      case 'location': return text(`${d}.location`);
      case 'userAgent': return text(`${d}.user_agent`);
      case 'firstSeenAt': return present(isoTime(`${d}.first_seen_at`));
      case 'lastSeenAt': return present(isoTime(`${d}.last_seen_at`));
      case 'session': {
        if (onlyId(field)) return json(idObject(field.children!, 'Session', `${d}.session_id`));
        const s = build.sql.alias('s');
        return json(`COALESCE((SELECT ${sessionObject(field.children!, s, build)} FROM "public"."sessions" ${s} WHERE ${s}.id = ${d}.session_id), 'null')`);
      }
      default: throw new Unplannable();
    }
  });
}

/** The stored steps (a JSON array; anything else reads as none), as AuthenticationMethod objects. */
function authenticationMethods(fields: Collected[], s: string): string {
  const m = `${s}_m`;
  const keys = ['method', 'aal', 'completedAt', 'provider', 'organization'];
  const value = object(fields, (field) => {
    switch (field.name) {
      case '__typename': return typename('AuthenticationMethod');
      // Stored as written by toISOString (or a vendor's ISO time): read back through a timestamp, as new Date() does.
      case 'completedAt': return plain(isoTime(`${m}."completedAt"::timestamptz`));
      default:
        if (!keys.includes(field.name)) throw new Unplannable();
        return text(`${m}.${JSON.stringify(field.name)}`);
    }
  });
  // jsonb_to_recordset reads each step's keys as ->> would, in the array's order (a function scan
  // returns its rows in order, which array() keeps); a step that is not an object makes the statement
  // fail, and the resolvers answer with their error.
  // Only the selected keys become columns (each one costs every step a lookup); at least one.
  const columns = keys.filter((key) => key === 'method' || fields.some((field) => field.name === key));
  return `('[' || array_to_string(array(SELECT ${value}
    FROM jsonb_to_recordset(CASE WHEN jsonb_typeof(${s}.authentication_methods) = 'array' THEN ${s}.authentication_methods ELSE '[]'::jsonb END)
      AS ${m}(${columns.map((key) => `${JSON.stringify(key)} text`).join(', ')})), ',') || ']')`;
}
