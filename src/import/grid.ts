// Grid's `GET /auth/sessions` response: { data: [session, …] } (a bare list is accepted too).
import type { ImportBatch, ImportedIdentity, ImportedSession } from './model.js';
import { ImportError, RecordReader } from './record-reader.js';
import { mapInSlices } from './slices.js';

const gridTypes = { OAUTH: 'OAUTH', EMAIL_OTP: 'EMAIL_OTP', PASSKEY: 'PASSKEY' } as const;

export async function parseGrid(document: unknown): Promise<ImportBatch> {
  let items: unknown[];
  let path: string;
  if (Array.isArray(document)) {
    [items, path] = [document, ''];
  } else {
    const envelope = RecordReader.of(document, '(file)');
    const data = envelope.value.data;
    if (!Array.isArray(data)) throw new ImportError('data', 'expected the list of sessions Grid returns under "data"');
    [items, path] = [data, 'data'];
  }
  const identities = new Map<string, ImportedIdentity>();
  const sessions = await mapInSlices(items, (item, i): ImportedSession => {
    const r = RecordReader.of(item, `${path}[${i}]`);
    const externalId = r.uuid('id', { required: true, prefix: 'Session:' })!;
    const accountId = r.uuid('accountId', { required: true, prefix: 'InternalAccount:' })!;
    identities.set(accountId, { externalId: accountId });
    const session: ImportedSession = {
      externalId,
      identityExternalId: accountId,
      recordPath: r.path,
      type: r.oneOf('type', gridTypes, { required: true }),
      nickname: r.string('nickname'),
      // Grid lists active sessions only; one past expiresAt reads EXPIRED by itself.
      status: 'ACTIVE',
      createdAt: r.dateTime('createdAt', { required: true }),
      updatedAt: r.dateTime('updatedAt'),
      expiresAt: r.dateTime('expiresAt', { required: true }),
      encryptedSigningKey: r.string('encryptedSessionSigningKey'),
      devices: [],
    };
    session.issuedAt = session.createdAt;
    session.vendorExtra = r.rest();
    return session;
  });
  return { source: 'GRID', identities: [...identities.values()], sessions };
}
