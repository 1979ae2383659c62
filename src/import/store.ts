// Writes a checked ImportBatch in one transaction: all of it or none of it. Records are matched by
// the vendor's own ids, so importing the same file again updates rows instead of adding new ones.
//
// The embedded database has one connection, so every read waits while an import's transaction is
// open: the transaction must be short. Everything that needs no database — the rows of every table
// as JSON, new ids — is made before it opens, a slice of records at a time (slices.ts); inside, each
// table takes one statement per 500 rows (json_to_recordset), which updates the rows the vendor's
// ids already name and inserts the rest. On the embedded database a batch none of whose records is
// stored yet is copied in instead (copy.ts), its events included.
// Rows refer to each other by the vendor's ids, resolved in SQL, so no statement waits for another's
// answer to be built. Then the events, from what the statements returned.
import { uuidv7 } from 'uuidv7';
import type { Database } from '../db/database.js';
import type { Vendor } from '../generated/prisma/enums.js';
import { withEventsOnDriver, type CommitListener, type EventOrigin } from '../events/record.js';
import type { ImportBatch, ImportedIdentity } from './model.js';
import { planCopy, type CopyPiece, type CopyPlan } from './copy.js';
import { candidates } from './own-ids.js';
import { nextTurn } from '../next-turn.js';
import { recordsPerSlice } from './slices.js';

/** What an import writes through: statements straight to the driver, in one transaction. */
export type ImportDatabase = Pick<Database, 'transaction' | 'read' | 'oneConnection'>;

/** Who imports, and the events the import writes (one per record it creates or changes). */
export interface ImportEvents {
  origin?: EventOrigin;
  listener?: CommitListener;
  now?: Date;
}

export interface ImportSummary {
  identitiesCreated: number;
  identitiesUpdated: number;
  sessionsCreated: number;
  sessionsUpdated: number;
  /** Sessions of the file already stored and left as they were (`keepStored`). */
  sessionsKept: number;
  /** Our ids of the imported sessions, in file order. */
  sessionIds: string[];
}

/** One table's rows for jsonb_to_recordset; absent values are left out (SQL NULL: "keep what is there"). */
type Rows = Record<string, unknown>[];

interface PreparedBatch {
  source: Vendor;
  /** Identities the vendor describes in full (Kratos): created or updated. */
  detailed: string[];
  /** Identities the vendor only names (Grid accounts, Clerk users): created once, never overwritten. */
  named: string[];
  credentials: string[];
  verifiableAddresses: string[];
  recoveryAddresses: string[];
  sessions: string[];
  devices: string[];
  identityOrder: string[];
  sessionOrder: string[];
  hasDetails: boolean;
}

// Each table's rows go in statements of this many: a statement runs on the server's thread (on the
// embedded database), and between two of them health checks and schema requests are answered.
const rowsPerStatement = 500;

/** The rows as JSON texts of rowsPerStatement rows, the event loop turning between two. */
async function chunks(rows: Rows): Promise<string[]> {
  const texts: string[] = [];
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    if (start > 0) await nextTurn();
    texts.push(JSON.stringify(rows.slice(start, start + rowsPerStatement)));
  }
  return texts;
}

/** The batch as the statements take it: built before the transaction opens, a slice at a time. */
async function prepare(batch: ImportBatch): Promise<PreparedBatch> {
  const identityCandidate = candidates(batch.source);
  const sessionCandidate = candidates(batch.source);
  const detailed: Rows = [];
  const named: Rows = [];
  const credentials: Rows = [];
  const verifiableAddresses: Rows = [];
  const recoveryAddresses: Rows = [];
  const identityRow = (identity: ImportedIdentity) => ({
    external_id: identity.externalId,
    candidate: identityCandidate(identity.externalId),
    fallback: uuidv7(),
  });
  for (const [index, identity] of batch.identities.entries()) {
    if (index > 0 && index % recordsPerSlice === 0) await nextTurn();
    const details = identity.details;
    if (!details) {
      named.push(identityRow(identity));
      continue;
    }
    detailed.push({
      ...identityRow(identity),
      schema_id: details.schemaId,
      schema_url: details.schemaUrl,
      traits: details.traits,
      state: details.state ?? 'ACTIVE',
      state_changed_at: details.stateChangedAt,
      metadata_public: details.metadataPublic,
      metadata_admin: details.metadataAdmin,
      organization_id: details.organizationId,
      vendor_extra: details.vendorExtra,
      created_at: details.createdAt,
      updated_at: details.updatedAt,
    });
    const owner = identity.externalId;
    for (const c of details.credentials) {
      credentials.push({
        owner,
        external_id: c.externalId,
        fallback: uuidv7(),
        type: c.type,
        identifiers: c.identifiers,
        config: c.config,
        version: c.version ?? 0,
        created_at: c.createdAt,
        updated_at: c.updatedAt,
      });
    }
    for (const a of details.verifiableAddresses) {
      verifiableAddresses.push({
        owner,
        external_id: a.externalId,
        fallback: uuidv7(),
        value: a.value,
        via: a.via,
        verified: a.verified,
        verified_at: a.verifiedAt,
        status: a.status,
        created_at: a.createdAt,
        updated_at: a.updatedAt,
      });
    }
    for (const a of details.recoveryAddresses) {
      recoveryAddresses.push({ owner, external_id: a.externalId, fallback: uuidv7(), value: a.value, via: a.via, created_at: a.createdAt, updated_at: a.updatedAt });
    }
  }
  const sessions: Rows = [];
  const devices: Rows = [];
  for (const [index, s] of batch.sessions.entries()) {
    if (index > 0 && index % recordsPerSlice === 0) await nextTurn();
    sessions.push({
      external_id: s.externalId,
      identity: s.identityExternalId,
      candidate: sessionCandidate(s.externalId),
      fallback: uuidv7(),
      type: s.type,
      nickname: s.nickname,
      status: s.status,
      aal: s.aal,
      authentication_methods: s.authenticationMethods ?? [],
      client_id: s.clientId,
      actor: s.actor,
      last_active_organization_id: s.lastActiveOrganizationId,
      last_active_at: s.lastActiveAt,
      issued_at: s.issuedAt,
      authenticated_at: s.authenticatedAt,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
      expires_at: s.expiresAt,
      abandon_at: s.abandonAt,
      revoked_at: s.revokedAt,
      encrypted_signing_key: s.encryptedSigningKey,
      tokenized: s.tokenized,
      vendor_extra: s.vendorExtra,
    });
    for (const d of s.devices) {
      devices.push({ session: s.externalId, external_id: d.externalId, fallback: uuidv7(), ip_address: d.ipAddress, location: d.location, user_agent: d.userAgent });
    }
  }
  return {
    source: batch.source,
    detailed: await chunks(detailed),
    named: await chunks(named),
    credentials: await chunks(credentials),
    verifiableAddresses: await chunks(verifiableAddresses),
    recoveryAddresses: await chunks(recoveryAddresses),
    sessions: await chunks(sessions),
    devices: await chunks(devices),
    identityOrder: batch.identities.map((i) => i.externalId),
    sessionOrder: batch.sessions.map((s) => s.externalId),
    hasDetails: detailed.length > 0,
  };
}

// Every statement takes the source as $1 and the rows as $2, JSON text. The CTEs of one statement
// all see the database as it was before the statement: `updated` changes the rows that existed,
// `inserted` adds those that did not, and neither sees the other's rows.
// The source is a column of the input (`r.source`), not a constant in the lookups: with the constant,
// PostgreSQL may probe (external_source, external_id) by the source alone and filter the ids, a scan
// per row over every record of that vendor — rows the same statement inserts included.
const input = (name: string, columns: string) =>
  `${name} AS MATERIALIZED (SELECT *, $1::"Vendor" AS source FROM json_to_recordset($2::json) AS r(${columns}))`;

const ownId = (table: string) =>
  `CASE WHEN r.candidate IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.id = r.candidate) THEN r.candidate ELSE r.fallback END`;

const detailedIdentitiesSql = `
WITH ${input('r', `external_id text, candidate uuid, fallback uuid, schema_id text, schema_url text,
    traits jsonb, state text, state_changed_at timestamptz, metadata_public jsonb, metadata_admin jsonb, organization_id text,
    vendor_extra jsonb, created_at timestamptz, updated_at timestamptz`)}, updated AS (
  UPDATE identities i SET schema_id = r.schema_id, schema_url = r.schema_url, traits = r.traits, state = r.state::"IdentityState",
    state_changed_at = r.state_changed_at, metadata_public = COALESCE(r.metadata_public, i.metadata_public),
    metadata_admin = COALESCE(r.metadata_admin, i.metadata_admin), organization_id = r.organization_id,
    vendor_extra = COALESCE(r.vendor_extra, i.vendor_extra), created_at = COALESCE(r.created_at, i.created_at),
    updated_at = COALESCE(r.updated_at, now())
  FROM r JOIN identities old ON old.external_source = r.source AND old.external_id = r.external_id
  WHERE i.id = old.id
  RETURNING i.id, i.external_id, old.state::text AS previous_state, i.state::text AS state
), inserted AS (
  INSERT INTO identities (id, external_source, external_id, schema_id, schema_url, traits, state, state_changed_at, metadata_public,
    metadata_admin, organization_id, vendor_extra, created_at, updated_at)
  SELECT ${ownId('identities')}, $1::"Vendor", r.external_id, r.schema_id, r.schema_url, r.traits, r.state::"IdentityState",
    r.state_changed_at, r.metadata_public, r.metadata_admin, r.organization_id, r.vendor_extra, COALESCE(r.created_at, now()),
    COALESCE(r.updated_at, now())
  FROM r WHERE NOT EXISTS (SELECT 1 FROM identities t WHERE t.external_source = r.source AND t.external_id = r.external_id)
  RETURNING id, external_id
)
SELECT id::text, external_id, previous_state, state, false AS inserted FROM updated
UNION ALL SELECT id::text, external_id, NULL, NULL, true FROM inserted`;

const namedIdentitiesSql = `
WITH ${input('r', 'external_id text, candidate uuid, fallback uuid')}
INSERT INTO identities (id, external_source, external_id, updated_at)
SELECT ${ownId('identities')}, $1::"Vendor", r.external_id, now() FROM r
WHERE NOT EXISTS (SELECT 1 FROM identities t WHERE t.external_source = r.source AND t.external_id = r.external_id)
RETURNING id::text, external_id, NULL AS previous_state, NULL AS state, true AS inserted`;

/**
 * Rows that belong to an identity or a session (named by the vendor's id) and are matched by their
 * own vendor id, or by `naturalKey` where they have none: the matched ones are updated (columns
 * without a value keep theirs), the others inserted, and the inserted ones returned.
 */
function childSql(spec: {
  table: string;
  owner: { column: string; table: string };
  columns: Record<string, string>;
  /** Columns a row without a vendor id is matched by (compared NULL-safely). */
  naturalKey: string[];
  /** Columns every update sets as given (the rest keep their value when the row has none). */
  always?: string[];
  returning: string;
}): string {
  const names = Object.keys(spec.columns);
  const always = new Set(spec.always ?? []);
  const set = names
    .map((c) => (always.has(c) ? `${c} = m.${c}${cast(spec.columns[c]!)}` : `${c} = COALESCE(m.${c}${cast(spec.columns[c]!)}, x.${c})`))
    .join(', ');
  const natural = spec.naturalKey.map((c) => `x.${c} IS NOT DISTINCT FROM r.${c}${cast(spec.columns[c]!)}`).join(' AND ');
  const recordset = ['owner text', 'external_id text', 'fallback uuid', 'created_at timestamptz', 'updated_at timestamptz']
    .concat(names.map((c) => `${c} ${recordsetType(spec.columns[c]!)}`))
    .join(', ');
  // `target` is the row each input row updates (the first that matches), looked up by the owner's
  // index one row at a time. OFFSET 0 keeps the candidates a subquery of their own: flattened, the
  // ORDER BY id LIMIT 1 lets the planner walk the primary key instead, filtering every row of the
  // table for each input row (an import of 20,000 records took 73 s that way, 8.5 s this way).
  return `
WITH ${input('rows', recordset)}, r AS (
  SELECT r.*, o.id AS owner_id FROM rows r JOIN ${spec.owner.table} o ON o.external_source = r.source AND o.external_id = r.owner
), m AS (
  SELECT r.*, (SELECT c.id FROM (SELECT x.id FROM ${spec.table} x WHERE x.${spec.owner.column} = r.owner_id
    AND CASE WHEN r.external_id IS NOT NULL THEN x.external_id = r.external_id ELSE ${natural} END OFFSET 0) c ORDER BY c.id LIMIT 1) AS target
  FROM r
), updated AS (
  UPDATE ${spec.table} x SET ${set}, external_id = COALESCE(m.external_id, x.external_id),
    created_at = COALESCE(m.created_at, x.created_at), updated_at = COALESCE(m.updated_at, now())
  FROM m WHERE x.id = m.target
)
INSERT INTO ${spec.table} (id, ${spec.owner.column}, external_id, created_at, updated_at, ${names.join(', ')})
SELECT m.fallback, m.owner_id, m.external_id, COALESCE(m.created_at, now()), COALESCE(m.updated_at, now()), ${names.map((c) => `m.${c}${cast(spec.columns[c]!)}`).join(', ')}
FROM m WHERE m.target IS NULL
RETURNING ${spec.returning}`;
}

/** Enum columns travel as text and are cast; other types are read as they are. */
function cast(type: string): string {
  return type.startsWith('"') ? `::${type}` : '';
}
function recordsetType(type: string): string {
  return type.startsWith('"') ? 'text' : type;
}

const credentialsSql = childSql({
  table: 'credentials',
  owner: { column: 'identity_id', table: 'identities' },
  columns: { type: '"CredentialType"', identifiers: 'text[]', config: 'jsonb', version: 'integer' },
  naturalKey: ['type'],
  always: ['type', 'identifiers', 'config', 'version'],
  returning: 'id::text, identity_id::text, type::text',
});

const verifiableAddressesSql = childSql({
  table: 'verifiable_addresses',
  owner: { column: 'identity_id', table: 'identities' },
  columns: { value: 'text', via: 'text', verified: 'boolean', verified_at: 'timestamptz', status: 'text' },
  naturalKey: ['value', 'via'],
  returning: 'id::text',
});

const recoveryAddressesSql = childSql({
  table: 'recovery_addresses',
  owner: { column: 'identity_id', table: 'identities' },
  columns: { value: 'text', via: 'text' },
  naturalKey: ['value', 'via'],
  returning: 'id::text',
});

// Devices have no created_at / updated_at of their own: the generic statement above does not fit
// (its lookup is fenced with OFFSET 0 the same way).
const devicesSql = `
WITH ${input('rows', 'session text, external_id text, fallback uuid, ip_address text, location text, user_agent text')}, r AS (
  SELECT r.*, s.id AS session_id FROM rows r JOIN sessions s ON s.external_source = r.source AND s.external_id = r.session
), m AS (
  SELECT r.*, (SELECT c.id FROM (SELECT d.id FROM devices d WHERE d.session_id = r.session_id
    AND CASE WHEN r.external_id IS NOT NULL THEN d.external_id = r.external_id
      ELSE d.user_agent IS NOT DISTINCT FROM r.user_agent AND d.ip_address IS NOT DISTINCT FROM r.ip_address END
    OFFSET 0) c ORDER BY c.id LIMIT 1) AS target
  FROM r
), updated AS (
  UPDATE devices d SET external_id = COALESCE(m.external_id, d.external_id), ip_address = COALESCE(m.ip_address, d.ip_address),
    location = COALESCE(m.location, d.location), user_agent = COALESCE(m.user_agent, d.user_agent)
  FROM m WHERE d.id = m.target
)
INSERT INTO devices (id, session_id, external_id, ip_address, location, user_agent)
SELECT m.fallback, m.session_id, m.external_id, m.ip_address, m.location, m.user_agent FROM m WHERE m.target IS NULL
RETURNING id::text`;

const sessionColumns: Record<string, string> = {
  type: '"CredentialType"',
  nickname: 'text',
  aal: '"AuthenticatorAssuranceLevel"',
  client_id: 'text',
  actor: 'jsonb',
  last_active_organization_id: 'text',
  last_active_at: 'timestamptz',
  authenticated_at: 'timestamptz',
  expires_at: 'timestamptz',
  abandon_at: 'timestamptz',
  revoked_at: 'timestamptz',
  encrypted_signing_key: 'text',
  tokenized: 'text',
  vendor_extra: 'jsonb',
};
const sessionNames = Object.keys(sessionColumns);

const sessionsSql = `
WITH ${input('rows', `external_id text, identity text, candidate uuid, fallback uuid, status text, authentication_methods jsonb,
    issued_at timestamptz, created_at timestamptz, updated_at timestamptz,
    ${sessionNames.map((c) => `${c} ${recordsetType(sessionColumns[c]!)}`).join(', ')}`)}, r AS (
  SELECT r.*, i.id AS identity_id FROM rows r JOIN identities i ON i.external_source = r.source AND i.external_id = r.identity
), updated AS (
  UPDATE sessions s SET identity_id = r.identity_id, status = r.status::"SessionStatus", authentication_methods = r.authentication_methods,
    issued_at = COALESCE(r.issued_at, s.issued_at), created_at = COALESCE(r.created_at, s.created_at), updated_at = COALESCE(r.updated_at, now()),
    ${sessionNames.map((c) => `${c} = COALESCE(r.${c}${cast(sessionColumns[c]!)}, s.${c})`).join(', ')}
  FROM r WHERE s.external_source = r.source AND s.external_id = r.external_id
  RETURNING s.id, s.external_id, s.identity_id, s.status
), inserted AS (
  INSERT INTO sessions (id, external_source, external_id, identity_id, status, authentication_methods, issued_at, created_at, updated_at, ${sessionNames.join(', ')})
  SELECT ${ownId('sessions')}, $1::"Vendor", r.external_id, r.identity_id, r.status::"SessionStatus", r.authentication_methods,
    COALESCE(r.issued_at, now()), COALESCE(r.created_at, now()), COALESCE(r.updated_at, now()),
    ${sessionNames.map((c) => `r.${c}${cast(sessionColumns[c]!)}`).join(', ')}
  FROM r WHERE NOT EXISTS (SELECT 1 FROM sessions t WHERE t.external_source = r.source AND t.external_id = r.external_id)
  RETURNING id, external_id, identity_id, status
)
SELECT id::text, external_id, identity_id::text, status::text, false AS inserted FROM updated
UNION ALL SELECT id::text, external_id, identity_id::text, status::text, true FROM inserted`;

interface IdentityWritten {
  id: string;
  external_id: string;
  previous_state: string | null;
  state: string | null;
  inserted: boolean;
}
interface SessionWritten {
  id: string;
  external_id: string;
  identity_id: string;
  status: string;
  inserted: boolean;
}

// Until the transaction ends. Replica mode skips the foreign keys' triggers (there are no others).
export const skipForeignKeyChecksSql = 'SET LOCAL session_replication_role = replica';

/** Another import wrote the same records at the same moment, and trying again did not settle it. */
export class ImportConflictError extends Error {
  constructor() {
    super('Another import is writing the same records right now; nothing was written, try again');
    this.name = 'ImportConflictError';
  }
}

// PostgreSQL: a unique key taken by a concurrent import (23505), or a transaction that lost a race
// (40001, 40P01). The driver's error carries the code.
const conflictCodes = new Set(['23505', '40001', '40P01']);
function isConflict(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && conflictCodes.has(code);
}

export async function storeBatch(db: ImportDatabase, batch: ImportBatch, recording: ImportEvents = {}): Promise<ImportSummary> {
  const origin = { ...recording.origin, occurredAt: recording.now ?? new Date() };
  let prepared: PreparedBatch | undefined;
  // Identical imports racing each other: the loser finds the winner's rows on its next try and
  // updates them, so all succeed.
  for (let attempt = 1; ; attempt++) {
    try {
      // On the embedded database, records none of which are stored are copied in (copy.ts).
      const copy = db.oneConnection ? await planCopy(db.read, batch, origin) : undefined;
      if (copy) return await writeCopied(db, copy, recording.listener);
      return await writeBatch(db, (prepared ??= await prepare(batch)), origin, recording.listener);
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (attempt === 3) throw new ImportConflictError();
    }
  }
}

// Temporary tables live on the one connection, seen by no other session and gone with it.
let stagesMade = 0;

/**
 * Writes a batch copy.ts made: each piece copied into a temporary table of its own (a short
 * transaction each, reads answered between them), then one transaction moves them into the tables,
 * the events last, nothing read back; the temporary tables are dropped either way.
 */
async function writeCopied(db: ImportDatabase, copy: CopyPlan, listener: CommitListener | undefined): Promise<ImportSummary> {
  const staged: (CopyPiece & { stage: string })[] = [];
  try {
    for (const piece of copy.pieces) {
      const stage = `import_stage_${++stagesMade}`;
      staged.push({ ...piece, stage });
      await db.transaction(async (query, copyFrom) => {
        if (!copyFrom) throw new Error('this database takes no COPY FROM');
        await query(`CREATE TEMPORARY TABLE ${stage} AS SELECT ${piece.columns} FROM ${piece.table} WITH NO DATA`, []);
        await copyFrom(`COPY ${stage} (${piece.columns}) FROM '/dev/blob'`, piece.text);
      });
      await nextTurn();
    }
    const rows = staged.filter((piece) => piece.table !== 'session_events');
    const events = { count: copy.eventCount, stages: staged.filter((piece) => piece.table === 'session_events').map((piece) => piece.stage) };
    await withEventsOnDriver(
      db,
      listener,
      async (query) => {
        // As in writeBatch: every row refers only to rows this transaction writes.
        await query(skipForeignKeyChecksSql, []);
        for (const { table, columns, stage } of rows) {
          await query(`INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${stage}`, []);
          await nextTurn();
        }
      },
      events,
    );
  } finally {
    // A failure to drop them (the database closing) leaves them to go with the connection.
    if (staged.length > 0) await db.read(`DROP TABLE IF EXISTS ${staged.map((piece) => piece.stage).join(', ')}`, []).catch(() => {});
  }
  return { identitiesCreated: copy.identitiesCreated, identitiesUpdated: 0, sessionsCreated: copy.sessionsCreated, sessionsUpdated: 0, sessionsKept: 0, sessionIds: copy.sessionIds };
}

function writeBatch(db: ImportDatabase, batch: PreparedBatch, origin: EventOrigin & { occurredAt: Date }, listener: CommitListener | undefined): Promise<ImportSummary> {
  const { source } = batch;
  return withEventsOnDriver(
    db,
    listener,
    async (query, events) => {
      // Every row the import refers to is one its own statements just wrote or found, and on one
      // connection no other transaction can delete it before the commit: the foreign keys' checks
      // (a lookup and a row lock for each of tens of thousands of rows, a quarter of the
      // transaction) cannot fail, and are skipped for this transaction alone. Where transactions
      // run side by side (PostgreSQL) they are what keeps a concurrent delete out.
      if (db.oneConnection) await query(skipForeignKeyChecksSql, []);
      const run = async <T>(sql: string, texts: string[]): Promise<T[]> => {
        const written: T[] = [];
        for (const rows of texts) {
          written.push(...((await query(sql, [source, rows])) as T[]));
          await nextTurn();
        }
        return written;
      };
      const identities = [...(await run<IdentityWritten>(detailedIdentitiesSql, batch.detailed)), ...(await run<IdentityWritten>(namedIdentitiesSql, batch.named))];
      const credentials = await run<{ id: string; identity_id: string; type: string }>(credentialsSql, batch.credentials);
      await run(verifiableAddressesSql, batch.verifiableAddresses);
      await run(recoveryAddressesSql, batch.recoveryAddresses);
      const sessions = await run<SessionWritten>(sessionsSql, batch.sessions);
      await run(devicesSql, batch.devices);

      const summary: ImportSummary = { identitiesCreated: 0, identitiesUpdated: 0, sessionsCreated: 0, sessionsUpdated: 0, sessionsKept: 0, sessionIds: [] };
      // Events in file order: each identity with its new credentials, then each session.
      const identityByExternalId = new Map(identities.map((i) => [i.external_id, i]));
      const newCredentials = Map.groupBy(credentials, (c) => c.identity_id);
      for (const externalId of batch.identityOrder) {
        const written = identityByExternalId.get(externalId);
        if (!written) continue; // named only, and already there
        const identityId = written.id;
        if (written.inserted) {
          summary.identitiesCreated++;
          events.push({ ...origin, type: 'IDENTITY_IMPORTED', identityId, details: { source, externalId } });
        } else {
          summary.identitiesUpdated++;
          if (written.previous_state !== written.state) {
            events.push({ ...origin, type: 'IDENTITY_STATE_CHANGED', identityId, details: { previousState: written.previous_state, state: written.state, source } });
          }
        }
        for (const credential of newCredentials.get(identityId) ?? []) {
          events.push({ ...origin, type: 'CREDENTIAL_ADDED', identityId, credentialId: credential.id, details: { type: credential.type, source } });
        }
      }
      const sessionByExternalId = new Map(sessions.map((s) => [s.external_id, s]));
      for (const externalId of batch.sessionOrder) {
        const written = sessionByExternalId.get(externalId)!;
        if (written.inserted) summary.sessionsCreated++;
        else summary.sessionsUpdated++;
        summary.sessionIds.push(written.id);
        events.push({
          ...origin,
          type: 'SESSION_IMPORTED',
          identityId: written.identity_id,
          sessionId: written.id,
          details: { source, externalId, status: written.status, updated: !written.inserted },
        });
      }
      return summary;
    },
  );
}
