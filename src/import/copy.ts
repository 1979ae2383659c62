// The embedded database's import of records none of which are stored yet (a first import, or what
// `keepStored` leaves): every row and every event is known before the transaction opens, so all of
// it is made then — ids, each table's COPY text, the events — and copied into temporary tables (a
// short transaction each, reads answered between them, store.ts). The transaction then only moves
// those rows into the tables, one INSERT … SELECT a piece: reads wait for that transaction (one
// connection), and the text's parsing — COPY is the cheapest way in: nothing to encode, plan or
// return — is done by then.
//
// What was read before the transaction can change before it opens: another import may store the
// same records, or take an id offered here. Their unique keys then fail the transaction, nothing is
// written, and storeBatch tries again, by then on the statements that update (store.ts). Every row
// refers only to rows of the same transaction, so skipping the foreign keys' checks stays safe.
import { uuidv7 } from 'uuidv7';
import { copyJson, copyLine, copyTextArray, copyTimestamp } from '../db/copy-text.js';
import type { Vendor } from '../generated/prisma/enums.js';
import { eventCopyColumns, eventCopyLine, type EventInput, type EventOrigin } from '../events/record.js';
import type { ImportBatch } from './model.js';
import { candidates } from './own-ids.js';
import { nextTurn } from '../next-turn.js';
import { recordsPerSlice } from './slices.js';

/** One table's rows, at most rowsPerCopy of them: COPY text of these columns. */
export interface CopyPiece {
  table: string;
  columns: string;
  text: string;
}

/** Everything the import writes: each table's rows in pieces, the events last; the summary. */
export interface CopyPlan {
  /** The events' pieces (`session_events`) are eventCopyLine's: each one's place where its sequence goes. */
  pieces: CopyPiece[];
  eventCount: number;
  identitiesCreated: number;
  sessionsCreated: number;
  sessionIds: string[];
}

// Rows per piece: the server answers health checks and schema requests between two statements (one
// copy of 5,000 events takes about 0.1 s); fewer statements, fewer turns the open transaction waits
// through.
const rowsPerCopy = 5000;

/** A table's lines, cut into pieces of rowsPerCopy rows. */
class Table {
  private readonly lines: string[] = [];
  constructor(
    private readonly table: string,
    private readonly columns: string,
  ) {}
  add(line: string): void {
    this.lines.push(line);
  }
  get count(): number {
    return this.lines.length;
  }
  pieces(): CopyPiece[] {
    const pieces = [];
    for (let start = 0; start < this.lines.length; start += rowsPerCopy) {
      pieces.push({ table: this.table, columns: this.columns, text: this.lines.slice(start, start + rowsPerCopy).join('') });
    }
    return pieces;
  }
}

// Which of the batch's records are stored, and which of the uuids it offers as ids are taken.
const storedSql = `
SELECT 'stored' AS kind, NULL AS id
WHERE EXISTS (SELECT 1 FROM identities WHERE external_source = $1::"Vendor" AND external_id = ANY (ARRAY(SELECT json_array_elements_text($2::json))))
   OR EXISTS (SELECT 1 FROM sessions WHERE external_source = $1::"Vendor" AND external_id = ANY (ARRAY(SELECT json_array_elements_text($3::json))))
UNION ALL SELECT 'identity', id::text FROM identities WHERE id = ANY (ARRAY(SELECT json_array_elements_text($4::json)::uuid))
UNION ALL SELECT 'session', id::text FROM sessions WHERE id = ANY (ARRAY(SELECT json_array_elements_text($5::json)::uuid))`;

/**
 * The batch as COPY text, or undefined when any of its identities or sessions is stored (those are
 * updated, by store.ts's statements), or a session's identity is not in the batch (`keepStored`
 * left out a stored one: the statements find it). `read` runs outside any transaction; `at` stands for "now"
 * wherever the file gives no time.
 */
export async function planCopy(
  read: (text: string, params: readonly unknown[]) => Promise<Record<string, unknown>[]>,
  batch: ImportBatch,
  origin: EventOrigin & { occurredAt: Date },
): Promise<CopyPlan | undefined> {
  const source: Vendor = batch.source;
  const inBatch = new Set(batch.identities.map((i) => i.externalId));
  if (!batch.sessions.every((s) => inBatch.has(s.identityExternalId))) return undefined;
  const identityCandidate = candidates(source);
  const sessionCandidate = candidates(source);
  const identityOffers = batch.identities.map((i) => identityCandidate(i.externalId));
  const sessionOffers = batch.sessions.map((s) => sessionCandidate(s.externalId));
  const found = (await read(storedSql, [
    source,
    JSON.stringify(batch.identities.map((i) => i.externalId)),
    JSON.stringify(batch.sessions.map((s) => s.externalId)),
    JSON.stringify(identityOffers.filter((id) => id !== undefined)),
    JSON.stringify(sessionOffers.filter((id) => id !== undefined)),
  ])) as { kind: string; id: string | null }[];
  if (found.some((row) => row.kind === 'stored')) return undefined;
  const taken = { identity: new Set<string>(), session: new Set<string>() };
  for (const row of found) taken[row.kind as 'identity' | 'session'].add(row.id!);
  const ownId = (offer: string | undefined, kind: 'identity' | 'session') => (offer !== undefined && !taken[kind].has(offer.toLowerCase()) ? offer : uuidv7());

  const at = copyTimestamp(origin.occurredAt);
  const detailed = new Table(
    'identities',
    `id, external_source, external_id, schema_id, schema_url, traits, state, state_changed_at, metadata_public, metadata_admin,
      organization_id, vendor_extra, created_at, updated_at`,
  );
  const named = new Table('identities', 'id, external_source, external_id, created_at, updated_at');
  const credentials = new Table('credentials', 'id, identity_id, external_id, type, identifiers, config, version, created_at, updated_at');
  const verifiableAddresses = new Table('verifiable_addresses', 'id, identity_id, external_id, value, via, verified, verified_at, status, created_at, updated_at');
  const recoveryAddresses = new Table('recovery_addresses', 'id, identity_id, external_id, value, via, created_at, updated_at');
  const sessions = new Table(
    'sessions',
    `id, external_source, external_id, identity_id, status, authentication_methods, issued_at, created_at, updated_at, type,
      nickname, aal, client_id, actor, last_active_organization_id, last_active_at, authenticated_at, expires_at, abandon_at, revoked_at,
      encrypted_signing_key, tokenized, vendor_extra`,
  );
  // first_seen_at and last_seen_at: the columns' default, as store.ts leaves them.
  const devices = new Table('devices', 'id, session_id, external_id, ip_address, location, user_agent');
  const events = new Table('session_events', eventCopyColumns);
  const event = (input: Omit<EventInput, 'occurredAt' | keyof EventOrigin>) => events.add(eventCopyLine({ ...origin, ...input }, events.count));

  // Events in file order, as store.ts writes them: each identity with its credentials, then each session.
  const identityIds = new Map<string, string>();
  for (const [index, identity] of batch.identities.entries()) {
    if (index > 0 && index % recordsPerSlice === 0) await nextTurn();
    const id = ownId(identityOffers[index], 'identity');
    identityIds.set(identity.externalId, id);
    event({ type: 'IDENTITY_IMPORTED', identityId: id, details: { source, externalId: identity.externalId } });
    const d = identity.details;
    if (!d) {
      named.add(copyLine([id, source, identity.externalId, at, at]));
      continue;
    }
    detailed.add(
      copyLine([
        id, source, identity.externalId, d.schemaId, d.schemaUrl, copyJson(d.traits), d.state ?? 'ACTIVE', copyTimestamp(d.stateChangedAt),
        copyJson(d.metadataPublic), copyJson(d.metadataAdmin), d.organizationId, copyJson(d.vendorExtra), copyTimestamp(d.createdAt) ?? at,
        copyTimestamp(d.updatedAt) ?? at,
      ]),
    );
    for (const c of d.credentials) {
      const credentialId = uuidv7();
      credentials.add(
        copyLine([
          credentialId, id, c.externalId, c.type, copyTextArray(c.identifiers), copyJson(c.config), String(c.version ?? 0),
          copyTimestamp(c.createdAt) ?? at, copyTimestamp(c.updatedAt) ?? at,
        ]),
      );
      event({ type: 'CREDENTIAL_ADDED', identityId: id, credentialId, details: { type: c.type, source } });
    }
    for (const a of d.verifiableAddresses) {
      verifiableAddresses.add(
        copyLine([
          uuidv7(), id, a.externalId, a.value, a.via, a.verified ? 't' : 'f', copyTimestamp(a.verifiedAt), a.status, copyTimestamp(a.createdAt) ?? at,
          copyTimestamp(a.updatedAt) ?? at,
        ]),
      );
    }
    for (const a of d.recoveryAddresses) {
      recoveryAddresses.add(copyLine([uuidv7(), id, a.externalId, a.value, a.via, copyTimestamp(a.createdAt) ?? at, copyTimestamp(a.updatedAt) ?? at]));
    }
  }
  const sessionIds: string[] = [];
  for (const [index, s] of batch.sessions.entries()) {
    if (index > 0 && index % recordsPerSlice === 0) await nextTurn();
    const id = ownId(sessionOffers[index], 'session');
    const identityId = identityIds.get(s.identityExternalId)!;
    sessionIds.push(id);
    sessions.add(
      copyLine([
        id, source, s.externalId, identityId, s.status, copyJson(s.authenticationMethods ?? []), copyTimestamp(s.issuedAt) ?? at,
        copyTimestamp(s.createdAt) ?? at, copyTimestamp(s.updatedAt) ?? at, s.type, s.nickname, s.aal, s.clientId, copyJson(s.actor),
        s.lastActiveOrganizationId, copyTimestamp(s.lastActiveAt), copyTimestamp(s.authenticatedAt), copyTimestamp(s.expiresAt),
        copyTimestamp(s.abandonAt), copyTimestamp(s.revokedAt), s.encryptedSigningKey, s.tokenized, copyJson(s.vendorExtra),
      ]),
    );
    for (const d of s.devices) devices.add(copyLine([uuidv7(), id, d.externalId, d.ipAddress, d.location, d.userAgent]));
    event({ type: 'SESSION_IMPORTED', identityId, sessionId: id, details: { source, externalId: s.externalId, status: s.status, updated: false } });
  }
  return {
    pieces: [detailed, named, credentials, verifiableAddresses, recoveryAddresses, sessions, devices, events].flatMap((table) => table.pieces()),
    eventCount: events.count,
    identitiesCreated: batch.identities.length,
    sessionsCreated: batch.sessions.length,
    sessionIds,
  };
}
