// On the embedded database, records none of which are stored are copied in (src/import/copy.ts):
// what they store is what the statements that update would store, all of it or none of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kratosExport } from '../../bench/import.js';
import { importDocument, type ImportTarget } from '../../src/import/index.js';
import { pgliteTarget, type TestDatabase } from '../support/databases.js';

type Json = Record<string, any>;

/** A Kratos export whose values carry every character COPY text treats specially. */
function trickyExport(prefix: string): Json[] {
  const document = JSON.parse(JSON.stringify(kratosExport(6)).replaceAll('"0000000', `"${prefix.padStart(7, 'c')}`)) as Json[];
  const odd = 'tab\t, newline\n, return\r, backslash\\, \\N, quote", comma, {brace}, ünïcödé 🎉';
  document[0]!.identity.traits = { email: 'odd@example.com', name: { first: odd, last: '' }, list: [odd, null, 1.5, false] };
  document[0]!.identity.credentials.password.identifiers = [odd, '', 'NULL', 'a,b'];
  document[0]!.identity.metadata_admin = { note: '\\t is not a tab' };
  document[0]!.identity.unknown_field = { kept: odd }; // vendor_extra
  document[0]!.devices[0].user_agent = odd;
  document[0]!.devices[0].location = '';
  delete document[1]!.devices[0].location;
  document[2]!.identity.recovery_addresses[0].value = 'ends with a backslash\\';
  delete document[2]!.identity.metadata_public;
  document[4]!.authentication_methods = [];
  document[5]!.tokenized = odd;
  // Two sessions a person: both carry the person's identity as changed above.
  for (let i = 1; i < document.length; i += 2) document[i]!.identity = document[i - 1]!.identity;
  return document;
}

// What each table holds, without the columns that are new ids or "now" on either path.
const tables = {
  identities: `SELECT id, external_source, external_id, schema_id, schema_url, traits, state, state_changed_at, metadata_public, metadata_admin,
    organization_id, vendor_extra, created_at, updated_at FROM identities ORDER BY id`,
  credentials: 'SELECT identity_id, external_id, type, identifiers, config, version, nickname, revoked_at FROM credentials ORDER BY identity_id, type',
  verifiable: 'SELECT identity_id, external_id, value, via, verified, verified_at, status FROM verifiable_addresses ORDER BY identity_id, external_id',
  recovery: 'SELECT identity_id, external_id, value, via FROM recovery_addresses ORDER BY identity_id, external_id',
  sessions: `SELECT id, identity_id, external_source, external_id, type, nickname, status, aal, authentication_methods, client_id, actor,
    last_active_organization_id, last_active_at, issued_at, authenticated_at, created_at, expires_at, abandon_at, revoked_at, encrypted_signing_key,
    token_hash, tokenized, vendor_extra FROM sessions ORDER BY id`,
  devices: 'SELECT session_id, external_id, ip_address, location, user_agent FROM devices ORDER BY session_id, external_id',
};

describe('the import on the embedded database copies new records in', () => {
  let copied: TestDatabase;
  let updated: TestDatabase;
  beforeAll(async () => {
    [copied, updated] = await Promise.all([pgliteTarget.open(), pgliteTarget.open()]);
  });
  afterAll(async () => {
    await Promise.all([copied.dispose(), updated.dispose()]);
  });

  const contents = async (t: TestDatabase) => Object.fromEntries(await Promise.all(Object.entries(tables).map(async ([name, sql]) => [name, await t.db.read(sql, [])])));
  const counts = async (t: TestDatabase) =>
    ((await t.db.read(
      `SELECT (SELECT count(*) FROM identities)::int AS identities, (SELECT count(*) FROM credentials)::int AS credentials,
        (SELECT count(*) FROM verifiable_addresses)::int AS verifiable, (SELECT count(*) FROM recovery_addresses)::int AS recovery,
        (SELECT count(*) FROM sessions)::int AS sessions, (SELECT count(*) FROM devices)::int AS devices, (SELECT count(*) FROM session_events)::int AS events`,
      [],
    )) as Record<'identities' | 'credentials' | 'verifiable' | 'recovery' | 'sessions' | 'devices' | 'events', number>[])[0]!;

  const temporaryTables = async (t: TestDatabase) => ((await t.db.read("SELECT count(*)::int AS n FROM pg_class WHERE relpersistence = 't'", [])) as { n: number }[])[0]!.n;

  it('stores exactly what the updating statements store, tricky values included, with its events in file order', async () => {
    const document = trickyExport('a1');
    copied.queries.length = 0;
    const summary = await importDocument(copied.db, 'KRATOS', document);
    // Copied into temporary tables first, then moved in one transaction; the temporary tables dropped.
    expect(copied.queries.some((sql) => /^COPY import_stage_\d+ \(id, external_source, external_id, identity_id/.test(sql))).toBe(true);
    expect(copied.queries.some((sql) => /^INSERT INTO sessions \(.*\) SELECT .* FROM import_stage_\d+$/s.test(sql))).toBe(true);
    expect(await temporaryTables(copied)).toBe(0);
    expect(summary).toMatchObject({ identitiesCreated: 3, identitiesUpdated: 0, sessionsCreated: 6, sessionsUpdated: 0 });
    expect(summary.sessionIds).toEqual(document.map((s) => s.id));

    // The other database has one of the records already: the whole file goes through the statements.
    await importDocument(updated.db, 'KRATOS', [document[0]]);
    updated.queries.length = 0;
    expect(await importDocument(updated.db, 'KRATOS', document)).toMatchObject({ identitiesCreated: 2, identitiesUpdated: 1, sessionsCreated: 5, sessionsUpdated: 1 });
    expect(updated.queries.some((sql) => sql.startsWith('COPY'))).toBe(false);
    expect(await contents(copied)).toEqual(await contents(updated));

    const session = await copied.db.prisma.session.findUniqueOrThrow({ where: { id: document[0]!.id }, select: { devices: { select: { userAgent: true, location: true } } } });
    expect(session.devices).toEqual([{ userAgent: document[0]!.devices[0].user_agent, location: '' }]);
    const events = (await copied.db.read(
      'SELECT sequence::text, type::text, identity_id::text, session_id::text, credential_id IS NOT NULL AS credential, details FROM session_events ORDER BY sequence',
      [],
    )) as Json[];
    // Numbered as the column's default numbers them: one transaction's id, places 1, 2, 3, …
    const sequences = events.map((e) => BigInt(e.sequence as string));
    expect(new Set(sequences.map((n) => n >> 20n)).size).toBe(1);
    expect(sequences.map((n) => Number(n & 0xfffffn))).toEqual(events.map((_, i) => i + 1));
    for (const e of events) delete e.sequence;
    const identities = [...new Set(document.map((s) => s.identity.id as string))];
    expect(events.map((e) => [e.type, e.identity_id])).toEqual([
      ...identities.flatMap((id) => [['IDENTITY_IMPORTED', id], ['CREDENTIAL_ADDED', id], ['CREDENTIAL_ADDED', id]]),
      ...document.map((s) => ['SESSION_IMPORTED', s.identity.id]),
    ]);
    expect(events.at(-1)).toEqual({
      type: 'SESSION_IMPORTED', identity_id: document[5]!.identity.id, session_id: document[5]!.id, credential: false,
      details: { source: 'KRATOS', externalId: document[5]!.id, status: 'REVOKED', updated: false }, // every fifth session is inactive
    });
  });

  it('leaves a new session of a stored identity to the statements when the stored records are kept (keepStored)', async () => {
    const document = trickyExport('a4');
    await importDocument(copied.db, 'KRATOS', [document[0]]);
    // The second session's identity is the first's: kept as stored, so not in the batch written.
    const summary = await importDocument(copied.db, 'KRATOS', [document[0], document[1]], { keepStored: true });
    expect(summary).toMatchObject({ sessionsCreated: 1, sessionsKept: 1, identitiesCreated: 0 });
    const session = await copied.db.prisma.session.findUniqueOrThrow({ where: { id: document[1]!.id }, select: { identityId: true } });
    expect(session.identityId).toBe(document[0]!.identity.id);
  });

  it('writes nothing when a row fails part way, events included', async () => {
    const before = await counts(copied);
    const document = trickyExport('a2');
    // The events are moved in last: refusing one fails the transaction at its very end.
    await copied.db.read(`CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.details->>'externalId' = '${document[4]!.id}' THEN RAISE EXCEPTION 'event refused by the test'; END IF; RETURN NEW; END $$`, []);
    await copied.db.read('CREATE TRIGGER refuse_event BEFORE INSERT ON session_events FOR EACH ROW EXECUTE FUNCTION refuse_event()', []);
    await copied.db.read('ALTER TABLE session_events ENABLE ALWAYS TRIGGER refuse_event', []);
    try {
      await expect(importDocument(copied.db, 'KRATOS', document)).rejects.toThrow('event refused by the test');
    } finally {
      await copied.db.read('DROP TRIGGER refuse_event ON session_events', []);
      await copied.db.read('DROP FUNCTION refuse_event()', []);
    }
    expect(await counts(copied)).toEqual(before);
    expect(await temporaryTables(copied)).toBe(0);
    expect(await importDocument(copied.db, 'KRATOS', document)).toMatchObject({ sessionsCreated: 6, identitiesCreated: 3 });
  });

  it('updates instead when another import stores a record after the check and before the copy', async () => {
    const document = trickyExport('a3');
    const before = await counts(copied);
    let raced = false;
    const racing: ImportTarget = {
      prisma: copied.db.prisma,
      transaction: (work) => copied.db.transaction(work),
      oneConnection: copied.db.oneConnection,
      async read(text, params) {
        const rows = await copied.db.read(text, params);
        if (!raced) {
          raced = true;
          await importDocument(copied.db, 'KRATOS', [document[3]]);
        }
        return rows;
      },
    };
    expect(await importDocument(racing, 'KRATOS', document)).toMatchObject({ identitiesCreated: 2, identitiesUpdated: 1, sessionsCreated: 5, sessionsUpdated: 1 });
    expect(raced).toBe(true);
    // Each record once; the first try's rows went with its transaction.
    expect(await counts(copied)).toEqual({
      identities: before.identities + 3, credentials: before.credentials + 6, verifiable: before.verifiable + 3, recovery: before.recovery + 3,
      sessions: before.sessions + 6, devices: before.devices + 6,
      // The racing import's record (identity, 2 credentials, session), then the other 2 identities
      // with theirs, and every session of the file (the one found again says it was updated).
      events: before.events + 4 + 6 + 6,
    });
  });
});
