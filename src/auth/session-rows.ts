// A session and its identity by the session's token hash (or id), the way every session request
// starts — as one prepared statement straight to the driver rather than through Prisma, which
// costs more than the lookup itself. The rows come back shaped as Prisma's (the columns Prisma's
// `omit` leaves out are left out here too), so they can prime the request's loaders;
// test/auth/session-rows.test.ts compares them with Prisma's own.
import type { Database } from '../db/database.js';
import { activeSql } from '../domain/session-status.js';
import type { Identity, Session } from '../generated/prisma/client.js';

const sessionColumns = {
  id: 'id', identityId: 'identity_id', externalSource: 'external_source', externalId: 'external_id', type: 'type', nickname: 'nickname',
  status: 'status', aal: 'aal', authenticationMethods: 'authentication_methods', clientId: 'client_id', actor: 'actor',
  lastActiveOrganizationId: 'last_active_organization_id', lastActiveAt: 'last_active_at', issuedAt: 'issued_at', authenticatedAt: 'authenticated_at',
  createdAt: 'created_at', updatedAt: 'updated_at', expiresAt: 'expires_at', abandonAt: 'abandon_at', revokedAt: 'revoked_at',
  revokedBySessionId: 'revoked_by_session_id', revocationReason: 'revocation_reason', signingPublicKey: 'signing_public_key', tokenized: 'tokenized',
} as const;

const identityColumns = {
  id: 'id', externalSource: 'external_source', externalId: 'external_id', schemaId: 'schema_id', schemaUrl: 'schema_url', traits: 'traits',
  state: 'state', stateChangedAt: 'state_changed_at', metadataPublic: 'metadata_public', metadataAdmin: 'metadata_admin',
  organizationId: 'organization_id', createdAt: 'created_at', updatedAt: 'updated_at',
} as const;

/** The select list of a session row `s` joined to its identity `i`, as shapeSessionWithIdentity() reads it. */
export const sessionIdentitySelect = [
  ...Object.entries(sessionColumns).map(([field, column]) => `s.${column} AS "s.${field}"`),
  ...Object.entries(identityColumns).map(([field, column]) => `i.${column} AS "i.${field}"`),
].join(', ');
const select = sessionIdentitySelect;

/** A session row's columns under `alias`, named as Prisma names them (for rows shaped by sessionRow()). */
export const sessionRowSql = (alias: string) => Object.entries(sessionColumns).map(([field, column]) => `${alias}.${column} AS "${field}"`).join(', ');

/** A row of sessionRowSql()'s columns as Prisma hands a session over. */
export function sessionRow(row: Record<string, unknown>): Session {
  const session = { ...row } as Session;
  if (session.signingPublicKey) session.signingPublicKey = new Uint8Array(session.signingPublicKey);
  return session;
}

/**
 * The session with its identity (sessionIdentitySelect) by token hash or by id — `key` is SQL (a
 * parameter) — and whether it authenticates at `now` ("sg_authenticates"): the lookup a statement
 * starts from when it does more in the same breath (a token mint writes its event).
 */
export function sessionLookupSql(by: 'tokenHash' | 'id', key: string, now: string): string {
  return `SELECT ${select}, ${authenticatesSql(now)} AS "sg_authenticates" FROM "public"."sessions" s JOIN "public"."identities" i ON i.id = s.identity_id
  WHERE ${by === 'tokenHash' ? `s.token_hash = ${key}` : `s.id = ${key}`}`;
}

const byTokenHash = `SELECT ${select} FROM "public"."sessions" s JOIN "public"."identities" i ON i.id = s.identity_id WHERE s.token_hash = $1`;
const byId = `SELECT ${select} FROM "public"."sessions" s JOIN "public"."identities" i ON i.id = s.identity_id WHERE s.id = $1::uuid`;

export type SessionWithIdentity = Session & { identity: Identity };

/** A row of sessionIdentitySelect, shaped as Prisma's session with its identity. */
export function shapeSessionWithIdentity(row: Record<string, unknown> | undefined): SessionWithIdentity | null {
  if (!row) return null;
  const session: Record<string, unknown> = {};
  const identity: Record<string, unknown> = {};
  for (const field of Object.keys(sessionColumns)) session[field] = row[`s.${field}`];
  for (const field of Object.keys(identityColumns)) identity[field] = row[`i.${field}`];
  // Prisma hands bytes over as a plain Uint8Array (pg gives a Buffer).
  if (session.signingPublicKey) session.signingPublicKey = new Uint8Array(session.signingPublicKey as Uint8Array);
  return { ...(session as Session), identity: identity as Identity };
}

export async function sessionByTokenHash(read: Database['read'], tokenHash: Uint8Array): Promise<SessionWithIdentity | null> {
  return shapeSessionWithIdentity((await read(byTokenHash, [Buffer.from(tokenHash)]))[0]);
}

export async function sessionById(read: Database['read'], id: string): Promise<SessionWithIdentity | null> {
  return shapeSessionWithIdentity((await read(byId, [id]))[0]);
}

/**
 * Whether session `s` of identity `i` authenticates at `now` (SQL), as authenticate() decides: an
 * effectively active session of an active identity. For statements that check a token themselves.
 */
export const authenticatesSql = (now: string) => `(i.state = 'ACTIVE' AND ${activeSql('s', now)})`;

/**
 * A session token's caller as a subquery (session_id, identity_id, authenticates) for a statement
 * that reads the caller's data in the same breath (a planned read): it authenticates as
 * authenticate() decides, an effectively active session of an active identity. `tokenHash` and
 * `now` are SQL (parameters).
 */
export function sessionCallerSql(tokenHash: string, now: string): string {
  return `SELECT s.id AS session_id, s.identity_id, ${authenticatesSql(now)} AS authenticates
    FROM "public"."sessions" s JOIN "public"."identities" i ON i.id = s.identity_id WHERE s.token_hash = ${tokenHash}`;
}
