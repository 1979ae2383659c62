// Writes a checked ImportBatch in one transaction: all of it or none of it. Records are matched by
// the vendor's own ids, so importing the same file again updates rows instead of adding new ones.
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Vendor } from '../generated/prisma/enums.js';
import { vendorUuid } from '../domain/vendor-ids.js';
import { withEvents, type CommitListener, type EventInput, type EventOrigin } from '../events/record.js';
import type { ImportBatch, ImportedIdentity, ImportedSession } from './model.js';

type Tx = Prisma.TransactionClient;

/** Who imports, and the events the import writes (one per record it creates or changes). */
export interface ImportEvents {
  origin?: EventOrigin;
  listener?: CommitListener;
  now?: Date;
}

/** What storeIdentity and storeSession write into: the summary and the events. */
interface Writing {
  summary: ImportSummary;
  events: EventInput[];
  event: Pick<EventInput, 'occurredAt'> & EventOrigin;
}

export interface ImportSummary {
  identitiesCreated: number;
  identitiesUpdated: number;
  sessionsCreated: number;
  sessionsUpdated: number;
  /** Our ids of the imported sessions, in file order. */
  sessionIds: string[];
}

const json = (value: unknown) => value as Prisma.InputJsonValue;
const optionalJson = (value: unknown) => (value === undefined ? undefined : (value as Prisma.InputJsonValue));

// A new record takes the vendor's uuid as ours when no row has it yet (else a new one, as usual).
async function freeId(source: Vendor, externalId: string, taken: (id: string) => Promise<unknown>): Promise<string | undefined> {
  const candidate = vendorUuid(source, externalId);
  return candidate && !(await taken(candidate)) ? candidate : undefined;
}

const freeIdentityId = (tx: Tx, source: Vendor, externalId: string) =>
  freeId(source, externalId, (id) => tx.identity.findUnique({ where: { id }, select: { id: true } }));

const freeSessionId = (tx: Tx, source: Vendor, externalId: string) =>
  freeId(source, externalId, (id) => tx.session.findUnique({ where: { id }, select: { id: true } }));

async function storeIdentity(tx: Tx, source: Vendor, identity: ImportedIdentity, { summary, events, event }: Writing): Promise<string> {
  const key = { externalSource_externalId: { externalSource: source, externalId: identity.externalId } };
  const existing = await tx.identity.findUnique({ where: key, select: { id: true, state: true } });
  const details = identity.details;
  const imported = (identityId: string) => events.push({ ...event, type: 'IDENTITY_IMPORTED', identityId, details: { source, externalId: identity.externalId } });
  if (!details) {
    // The vendor only names the identity: create it once, never overwrite what is known.
    if (existing) return existing.id;
    summary.identitiesCreated++;
    const created = await tx.identity.create({ data: { id: await freeIdentityId(tx, source, identity.externalId), externalSource: source, externalId: identity.externalId } });
    imported(created.id);
    return created.id;
  }
  const data = {
    schemaId: details.schemaId ?? null,
    schemaUrl: details.schemaUrl ?? null,
    traits: json(details.traits),
    state: details.state ?? 'ACTIVE',
    stateChangedAt: details.stateChangedAt ?? null,
    metadataPublic: optionalJson(details.metadataPublic),
    metadataAdmin: optionalJson(details.metadataAdmin),
    organizationId: details.organizationId ?? null,
    vendorExtra: optionalJson(details.vendorExtra),
    ...(details.createdAt ? { createdAt: details.createdAt } : {}),
    ...(details.updatedAt ? { updatedAt: details.updatedAt } : {}),
  };
  let id: string;
  if (existing) {
    summary.identitiesUpdated++;
    id = (await tx.identity.update({ where: { id: existing.id }, data })).id;
    if (existing.state !== data.state) {
      events.push({ ...event, type: 'IDENTITY_STATE_CHANGED', identityId: id, details: { previousState: existing.state, state: data.state, source } });
    }
  } else {
    summary.identitiesCreated++;
    id = (await tx.identity.create({ data: { ...data, id: await freeIdentityId(tx, source, identity.externalId), externalSource: source, externalId: identity.externalId } })).id;
    imported(id);
  }
  for (const credential of details.credentials) {
    const found = await tx.credential.findFirst({ where: { identityId: id, externalId: credential.externalId }, select: { id: true } });
    const values = {
      type: credential.type,
      identifiers: credential.identifiers,
      config: json(credential.config),
      version: credential.version ?? 0,
      ...(credential.createdAt ? { createdAt: credential.createdAt } : {}),
      ...(credential.updatedAt ? { updatedAt: credential.updatedAt } : {}),
    };
    if (found) {
      await tx.credential.update({ where: { id: found.id }, data: values });
    } else {
      const created = await tx.credential.create({ data: { ...values, identityId: id, externalId: credential.externalId } });
      events.push({ ...event, type: 'CREDENTIAL_ADDED', identityId: id, credentialId: created.id, details: { type: created.type, source } });
    }
  }
  for (const address of details.verifiableAddresses) {
    const { externalId, ...values } = address;
    const found = await tx.verifiableAddress.findFirst({
      where: externalId ? { identityId: id, externalId } : { identityId: id, value: address.value, via: address.via },
      select: { id: true },
    });
    if (found) await tx.verifiableAddress.update({ where: { id: found.id }, data: values });
    else await tx.verifiableAddress.create({ data: { ...values, identityId: id, externalId } });
  }
  for (const address of details.recoveryAddresses) {
    const { externalId, ...values } = address;
    const found = await tx.recoveryAddress.findFirst({
      where: externalId ? { identityId: id, externalId } : { identityId: id, value: address.value, via: address.via },
      select: { id: true },
    });
    if (found) await tx.recoveryAddress.update({ where: { id: found.id }, data: values });
    else await tx.recoveryAddress.create({ data: { ...values, identityId: id, externalId } });
  }
  return id;
}

async function storeSession(
  tx: Tx,
  source: Vendor,
  session: ImportedSession,
  identityId: string,
  { summary, events, event }: Writing,
): Promise<string> {
  const { externalId, identityExternalId: _identity, recordPath: _path, devices, authenticationMethods, actor, vendorExtra, ...fields } = session;
  const data = {
    ...fields,
    identityId,
    authenticationMethods: json(authenticationMethods ?? []),
    actor: optionalJson(actor),
    vendorExtra: optionalJson(vendorExtra),
  };
  const key = { externalSource_externalId: { externalSource: source, externalId } };
  const existing = await tx.session.findUnique({ where: key, select: { id: true } });
  let stored: { id: string; status: string };
  if (existing) {
    summary.sessionsUpdated++;
    stored = await tx.session.update({ where: { id: existing.id }, data, select: { id: true, status: true } });
  } else {
    summary.sessionsCreated++;
    stored = await tx.session.create({ data: { ...data, id: await freeSessionId(tx, source, externalId), externalSource: source, externalId }, select: { id: true, status: true } });
  }
  const id = stored.id;
  events.push({ ...event, type: 'SESSION_IMPORTED', identityId, sessionId: id, details: { source, externalId, status: stored.status, updated: existing !== null } });
  for (const device of devices) {
    const found = await tx.device.findFirst({
      where: device.externalId
        ? { sessionId: id, externalId: device.externalId }
        : { sessionId: id, userAgent: device.userAgent ?? null, ipAddress: device.ipAddress ?? null },
      select: { id: true },
    });
    if (found) await tx.device.update({ where: { id: found.id }, data: device });
    else await tx.device.create({ data: { ...device, sessionId: id } });
  }
  return id;
}

/** Another import wrote the same records at the same moment, and trying again did not settle it. */
export class ImportConflictError extends Error {
  constructor() {
    super('Another import is writing the same records right now; nothing was written, try again');
    this.name = 'ImportConflictError';
  }
}

// PostgreSQL: a unique key taken by a concurrent import (P2002), or a transaction that lost a race.
const conflictCodes = new Set(['P2002', 'P2034']);
const isConflict = (error: unknown) => conflictCodes.has((error as { code?: string }).code ?? '');

// PGlite runs each statement on this thread: between records, let the HTTP side answer (health
// checks, requests waiting for the database) instead of holding the event loop for the whole import.
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function storeBatch(prisma: PrismaClient, batch: ImportBatch, recording: ImportEvents = {}): Promise<ImportSummary> {
  // Identical imports racing each other: the loser finds the winner's rows on its next try and
  // updates them, so all succeed.
  for (let attempt = 1; ; attempt++) {
    try {
      return await writeBatch(prisma, batch, recording);
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (attempt === 3) throw new ImportConflictError();
    }
  }
}

function writeBatch(prisma: PrismaClient, batch: ImportBatch, recording: ImportEvents): Promise<ImportSummary> {
  return withEvents(
    prisma,
    recording.listener,
    async (tx, events) => {
      const summary: ImportSummary = { identitiesCreated: 0, identitiesUpdated: 0, sessionsCreated: 0, sessionsUpdated: 0, sessionIds: [] };
      const writing: Writing = { summary, events, event: { ...recording.origin, occurredAt: recording.now ?? new Date() } };
      const identityIds = new Map<string, string>();
      for (const identity of batch.identities) {
        identityIds.set(identity.externalId, await storeIdentity(tx, batch.source, identity, writing));
        await yieldToEventLoop();
      }
      for (const session of batch.sessions) {
        summary.sessionIds.push(await storeSession(tx, batch.source, session, identityIds.get(session.identityExternalId)!, writing));
        await yieldToEventLoop();
      }
      return summary;
    },
    // Large exports take a while; the default 5 s would abort them half-way (and roll back).
    { timeout: 10 * 60_000, maxWait: 60_000 },
  );
}
