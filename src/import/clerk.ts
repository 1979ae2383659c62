// Clerk's Backend API session object, a list of them, or a paginated { data, total_count } page.
// Times are Unix milliseconds; statuses are lowercase.
import type { ImportBatch, ImportedDevice, ImportedIdentity, ImportedSession } from './model.js';
import { ImportError, RecordReader, maxIdLength } from './record-reader.js';
import { mapInSlices } from './slices.js';

const clerkStatuses = {
  active: 'ACTIVE',
  revoked: 'REVOKED',
  ended: 'ENDED',
  expired: 'EXPIRED',
  removed: 'REMOVED',
  abandoned: 'ABANDONED',
  replaced: 'REPLACED',
  pending: 'PENDING',
} as const;

const clerkId = (prefix: string) => ({ pattern: new RegExp(`^${prefix}_[A-Za-z0-9]+$`), expected: `a Clerk id "${prefix}_…"`, maxLength: maxIdLength });

function sessionsOf(document: unknown): { items: unknown[]; path: string } {
  if (Array.isArray(document)) return { items: document, path: '' };
  const top = RecordReader.of(document, '(file)');
  if (Array.isArray(top.value.data)) return { items: top.value.data, path: 'data' };
  if (top.value.object === 'session') return { items: [document], path: '' };
  throw new ImportError('(file)', 'expected a Clerk session object, a list of them, or { "data": [...] }');
}

/** Clerk's newer `latest_activity` (browser, IP, city) is the device the session was last used from. */
function latestActivity(r: RecordReader): ImportedDevice[] {
  const activity = r.record('latest_activity');
  if (!activity) return [];
  const browser = [activity.string('browser_name'), activity.string('browser_version')].filter(Boolean).join(' ');
  const place = [activity.string('city'), activity.string('country')].filter(Boolean).join(', ');
  return [
    {
      externalId: activity.string('id'),
      ipAddress: activity.string('ip_address'),
      location: place || undefined,
      userAgent: browser || undefined,
    },
  ];
}

export async function parseClerk(document: unknown): Promise<ImportBatch> {
  const { items, path } = sessionsOf(document);
  const identities = new Map<string, ImportedIdentity>();
  const sessions = await mapInSlices(items, (item, i): ImportedSession => {
    const r = RecordReader.of(item, path ? `${path}[${i}]` : `[${i}]`);
    r.string('object', { required: true, pattern: /^session$/, expected: '"session"' });
    const externalId = r.string('id', { required: true, ...clerkId('sess') });
    const userId = r.string('user_id', { required: true, ...clerkId('user') });
    identities.set(userId, { externalId: userId });
    const status = r.oneOf('status', clerkStatuses, { required: true })!;
    const updatedAt = r.unixMillis('updated_at', { required: true });
    const session: ImportedSession = {
      externalId,
      identityExternalId: userId,
      recordPath: r.path,
      clientId: r.string('client_id', clerkId('client')),
      actor: r.object('actor'),
      status,
      lastActiveOrganizationId: r.string('last_active_organization_id', { maxLength: maxIdLength }),
      lastActiveAt: r.unixMillis('last_active_at', { required: true }),
      expiresAt: r.unixMillis('expire_at', { required: true }),
      abandonAt: r.unixMillis('abandon_at', { required: true }),
      updatedAt,
      createdAt: r.unixMillis('created_at', { required: true }),
      devices: latestActivity(r),
    };
    session.issuedAt = session.createdAt;
    // Clerk records no revocation time; its last update is when the status changed.
    if (status === 'REVOKED') session.revokedAt = updatedAt;
    session.vendorExtra = r.rest();
    if (r.value.latest_activity !== undefined) session.vendorExtra = { ...session.vendorExtra, latest_activity: r.value.latest_activity };
    return session;
  });
  return { source: 'CLERK', identities: [...identities.values()], sessions };
}
