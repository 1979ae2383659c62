// A large export is written in a few statements over all its rows, however many records it has,
// so the transaction (and every read waiting for it on the embedded database) stays short; a
// second import of a changed export updates each row in place and says what changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kratosExport } from '../../bench/import.js';
import { importDocument } from '../../src/import/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';

type Json = Record<string, any>;

describe.each(databaseTargets)('a large import on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target);
  });
  afterAll(async () => {
    await t.dispose();
  });

  const counts = async () => ({
    identities: await t.db.prisma.identity.count(),
    sessions: await t.db.prisma.session.count(),
    devices: await t.db.prisma.device.count(),
    credentials: await t.db.prisma.credential.count(),
    verifiableAddresses: await t.db.prisma.verifiableAddress.count(),
    recoveryAddresses: await t.db.prisma.recoveryAddress.count(),
  });

  it('writes 400 sessions with the statements 4 take, a few a table', async () => {
    const statements = async (sessions: number) => {
      t.queries.length = 0;
      // Records of their own: the generator's uuids start 0000000<kind>, these start with the size.
      const own = JSON.stringify(kratosExport(sessions)).replaceAll('"0000000', `"${String(sessions).padStart(7, 'a')}`);
      await importDocument(t.db, 'KRATOS', JSON.parse(own));
      return t.queries.length;
    };
    const small = await statements(4);
    expect(await statements(400)).toBe(small);
    // PostgreSQL: one transaction, a statement a table. The embedded database: each table's rows
    // copied into a temporary table by a transaction of their own (BEGIN, CREATE, COPY, COMMIT),
    // then one transaction that moves them all in.
    expect(small).toBeLessThanOrEqual(target.name === 'pglite' ? 45 : 15);
  });

  it('keeps the vendor uuids as ids, links every row, and records one event per record', async () => {
    const document = kratosExport(300) as Json[];
    const before = await t.db.prisma.sessionEvent.count();
    const summary = await importDocument(t.db, 'KRATOS', document);
    expect(summary).toMatchObject({ sessionsCreated: 300, sessionsUpdated: 0, identitiesCreated: 150, identitiesUpdated: 0 });
    expect(summary.sessionIds).toEqual(document.map((s) => s.id));
    const session = await t.db.prisma.session.findUniqueOrThrow({
      where: { id: document[7]!.id },
      select: { identityId: true, status: true, devices: { select: { externalId: true, location: true } } },
    });
    expect(session).toEqual({ identityId: document[7]!.identity.id, status: 'ACTIVE', devices: [{ externalId: document[7]!.devices[0].id, location: 'London, GB' }] });
    // Sessions, identities and their two credentials each: 300 + 150 + 300.
    expect((await t.db.prisma.sessionEvent.count()) - before).toBe(750);
  });

  it('updates in place on a second import: changed fields, kept fields, a state change as an event', async () => {
    const before = await counts();
    const document = kratosExport(300) as Json[];
    document[0]!.devices[0].location = 'Paris, FR';
    document[0]!.identity.state = 'inactive';
    document[1]!.identity.state = 'inactive';
    delete document[2]!.identity.metadata_public; // absent: what is stored stays
    document[4]!.active = false;
    const summary = await importDocument(t.db, 'KRATOS', document);
    expect(summary).toMatchObject({ sessionsCreated: 0, sessionsUpdated: 300, identitiesCreated: 0, identitiesUpdated: 150 });
    expect(await counts()).toEqual(before);
    const first = await t.db.prisma.session.findUniqueOrThrow({
      where: { id: document[0]!.id },
      select: { devices: { select: { location: true } }, identity: { select: { state: true } } },
    });
    expect(first).toEqual({ devices: [{ location: 'Paris, FR' }], identity: { state: 'INACTIVE' } });
    const kept = await t.db.prisma.identity.findUniqueOrThrow({ where: { id: document[2]!.identity.id }, select: { metadataPublic: true } });
    expect(kept.metadataPublic).toEqual({ plan: 'team' });
    expect((await t.db.prisma.session.findUniqueOrThrow({ where: { id: document[4]!.id }, select: { status: true } })).status).toBe('REVOKED');
    const changed = await t.db.prisma.sessionEvent.findMany({ where: { type: 'IDENTITY_STATE_CHANGED' }, select: { identityId: true, details: true } });
    expect(changed).toEqual([{ identityId: document[0]!.identity.id, details: { previousState: 'ACTIVE', state: 'INACTIVE', source: 'KRATOS' } }]);
  });

  const ownRecords = (sessions: number, prefix: string) =>
    JSON.parse(JSON.stringify(kratosExport(sessions)).replaceAll('"0000000', `"${prefix.padStart(7, 'e')}`)) as Json[];

  it('refuses a bad record far into a large document by its place, and writes none of the records before it', async () => {
    const before = await counts();
    const document = ownRecords(1000, 'e1');
    document[930]!.expires_at = 'soon';
    await expect(importDocument(t.db, 'KRATOS', document)).rejects.toThrow(/^\[930\]\.expires_at: /);
    expect(await counts()).toEqual(before);
  });

  it('has no trigger the embedded import would skip: only the foreign keys\' own', async () => {
    // The import's transaction on one connection runs in replica mode (skipForeignKeyChecksSql),
    // which also skips ordinary triggers: a trigger added to the schema must be ENABLE ALWAYS, or
    // the import must stop using replica mode.
    const triggers = (await t.db.read(
      `SELECT tgrelid::regclass::text AS "table", tgname AS name FROM pg_trigger
        WHERE NOT tgisinternal AND tgenabled <> 'A' AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)`,
      [],
    )) as { table: string; name: string }[];
    expect(triggers).toEqual([]);
  });

  it('rolls every table back when a statement fails in the middle of the transaction', async () => {
    const before = { ...(await counts()), events: await t.db.prisma.sessionEvent.count() };
    const document = ownRecords(500, 'e2');
    // Devices are written after the identities, their credentials and addresses and the sessions.
    // ENABLE ALWAYS: the trigger fires whatever the session's replication role.
    await t.db.prisma.$executeRawUnsafe(`CREATE FUNCTION refuse_device() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.user_agent LIKE '%(bench 7)%' THEN RAISE EXCEPTION 'device refused by the test'; END IF; RETURN NEW; END $$`);
    await t.db.prisma.$executeRawUnsafe('CREATE TRIGGER refuse_device BEFORE INSERT ON devices FOR EACH ROW EXECUTE FUNCTION refuse_device()');
    await t.db.prisma.$executeRawUnsafe('ALTER TABLE devices ENABLE ALWAYS TRIGGER refuse_device');
    try {
      await expect(importDocument(t.db, 'KRATOS', document)).rejects.toThrow('device refused by the test');
    } finally {
      await t.db.prisma.$executeRawUnsafe('DROP TRIGGER refuse_device ON devices');
      await t.db.prisma.$executeRawUnsafe('DROP FUNCTION refuse_device()');
    }
    expect({ ...(await counts()), events: await t.db.prisma.sessionEvent.count() }).toEqual(before);
    // Foreign keys are checked again after the import's transaction, failed or committed.
    const [{ role }] = await t.db.read('SELECT current_setting($1) AS role', ['session_replication_role']) as [{ role: string }];
    expect(role).toBe('origin');
    await expect(t.db.prisma.device.create({ data: { sessionId: '00000000-0000-4000-8000-000000000000' } })).rejects.toThrow(/foreign key/i);
    // The same document imports once nothing refuses it.
    expect(await importDocument(t.db, 'KRATOS', document)).toMatchObject({ sessionsCreated: 500, identitiesCreated: 250 });
    expect(await t.db.prisma.sessionEvent.count()).toBe(before.events + 1250);
  });
});
