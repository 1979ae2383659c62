// Kratos' `GET /admin/identities/:id/sessions` response: a list of sessions, each embedding its
// identity (with credentials keyed by type) and devices. A single session object is accepted too.
import { kratosMethodTypes, type StoredAuthenticationMethod } from '../domain/authentication-method.js';
import type { ImportBatch, ImportedIdentity, ImportedSession } from './model.js';
import { RecordReader } from './record-reader.js';
import { mapInSlices } from './slices.js';

const aals = { aal0: 'AAL0', aal1: 'AAL1', aal2: 'AAL2', aal3: 'AAL3' } as const;
const states = { active: 'ACTIVE', inactive: 'INACTIVE' } as const;

function parseIdentity(r: RecordReader): ImportedIdentity {
  const externalId = r.uuid('id', { required: true })!;
  const credentials = Object.entries(r.object('credentials') ?? {}).map(([key, value]) => {
    const c = RecordReader.of(value, `${r.path}.credentials.${key}`);
    return {
      externalId: key,
      type: c.oneOf('type', kratosMethodTypes, { required: true })!,
      identifiers: c.strings('identifiers'),
      config: c.object('config') ?? {},
      version: c.integer('version'),
      createdAt: c.dateTime('created_at'),
      updatedAt: c.dateTime('updated_at'),
    };
  });
  const verifiableAddresses = r.records('verifiable_addresses').map((a) => ({
    externalId: a.uuid('id'),
    value: a.string('value', { required: true })!,
    via: a.string('via', { required: true })!,
    verified: a.boolean('verified', { required: true })!,
    verifiedAt: a.dateTime('verified_at'),
    status: a.string('status', { required: true })!,
    createdAt: a.dateTime('created_at'),
    updatedAt: a.dateTime('updated_at'),
  }));
  const recoveryAddresses = r.records('recovery_addresses').map((a) => ({
    externalId: a.uuid('id'),
    value: a.string('value', { required: true })!,
    via: a.string('via', { required: true })!,
    createdAt: a.dateTime('created_at'),
    updatedAt: a.dateTime('updated_at'),
  }));
  const details: NonNullable<ImportedIdentity['details']> = {
    schemaId: r.string('schema_id', { required: true }),
    schemaUrl: r.string('schema_url'),
    traits: r.object('traits') ?? {},
    state: r.oneOf('state', states),
    stateChangedAt: r.dateTime('state_changed_at'),
    metadataPublic: r.object('metadata_public'),
    metadataAdmin: r.object('metadata_admin'),
    organizationId: r.string('organization_id'),
    createdAt: r.dateTime('created_at'),
    updatedAt: r.dateTime('updated_at'),
    credentials,
    verifiableAddresses,
    recoveryAddresses,
  };
  details.vendorExtra = r.rest();
  return { externalId, details };
}

export async function parseKratos(document: unknown): Promise<ImportBatch> {
  const items = Array.isArray(document) ? document : [document];
  const identities = new Map<string, ImportedIdentity>();
  const sessions = await mapInSlices(items, (item, i): ImportedSession => {
    const r = RecordReader.of(item, `[${i}]`);
    const externalId = r.uuid('id', { required: true })!;
    const active = r.boolean('active', { required: true })!;
    const authenticatedAt = r.dateTime('authenticated_at');
    const authenticationMethods = r.records('authentication_methods').map(
      (m): StoredAuthenticationMethod => ({
        method: m.oneOf('method', kratosMethodTypes, { required: true })!,
        aal: m.oneOf('aal', aals) ?? null,
        completedAt: m.dateTime('completed_at')?.toISOString() ?? null,
        provider: m.string('provider') ?? null,
        organization: m.string('organization') ?? null,
      }),
    );
    const aal = r.oneOf('authenticator_assurance_level', aals);
    const devices = r.records('devices').map((d) => ({
      externalId: d.uuid('id'),
      ipAddress: d.string('ip_address'),
      location: d.string('location'),
      userAgent: d.string('user_agent'),
    }));
    const expiresAt = r.dateTime('expires_at');
    const identity = parseIdentity(r.record('identity', { required: true })!);
    identities.set(identity.externalId, identity);
    const issuedAt = r.dateTime('issued_at');
    // Kratos says only active or not; an inactive session that has not expired was revoked.
    const status = active ? 'ACTIVE' : expiresAt && expiresAt <= new Date() ? 'EXPIRED' : 'REVOKED';
    const session: ImportedSession = {
      externalId,
      identityExternalId: identity.externalId,
      recordPath: r.path,
      status,
      aal,
      authenticationMethods,
      authenticatedAt,
      issuedAt,
      createdAt: issuedAt ?? authenticatedAt,
      expiresAt,
      tokenized: r.string('tokenized'),
      devices,
    };
    session.vendorExtra = r.rest();
    return session;
  });
  return { source: 'KRATOS', identities: [...identities.values()], sessions };
}
