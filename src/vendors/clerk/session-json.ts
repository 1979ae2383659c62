// Clerk's Backend API `Session` object (what `@clerk/backend` turns into its Session class): one
// serializer for every place that speaks Clerk — the /clerk routes and webhook payloads alike. It
// depends on rows and domain rules only, so either may import it.
import { effectiveStatus } from '../../domain/session-status.js';
import { encodeGlobalId } from '../../domain/global-id.js';
import type { Device, Identity, Session } from '../../generated/prisma/client.js';

/** What the serializer reads: a session row, its identity's ids, and optionally its devices (latest first). */
export type ClerkSessionSource = Session & {
  identity: Pick<Identity, 'id' | 'externalSource' | 'externalId'>;
  devices?: Pick<Device, 'id' | 'externalId' | 'ipAddress' | 'location' | 'userAgent'>[];
};

export interface ClerkSessionActivity {
  object: 'session_activity';
  id: string;
  device_type: string | null;
  is_mobile: boolean;
  browser_name: string | null;
  browser_version: string | null;
  ip_address: string | null;
  city: string | null;
  country: string | null;
}

export interface ClerkSessionJson {
  object: 'session';
  id: string;
  client_id: string | null;
  user_id: string;
  status: string;
  last_active_at: number;
  last_active_organization_id: string | null;
  actor: unknown;
  expire_at: number | null;
  abandon_at: number | null;
  created_at: number;
  updated_at: number;
  latest_activity: ClerkSessionActivity | null;
}

/** A session's id as Clerk routes show it: Clerk's `sess_…` for a session imported from Clerk, else `Session:<uuid>`. */
export function clerkSessionId(session: Pick<Session, 'id' | 'externalSource' | 'externalId'>): string {
  return session.externalSource === 'CLERK' && session.externalId ? session.externalId : encodeGlobalId('Session', session.id);
}

/** An identity's id as Clerk routes show it: `user_…` for a user imported from Clerk, else `Identity:<uuid>`. */
export function clerkUserId(identity: Pick<Identity, 'id' | 'externalSource' | 'externalId'>): string {
  return identity.externalSource === 'CLERK' && identity.externalId ? identity.externalId : encodeGlobalId('Identity', identity.id);
}

const ms = (date: Date | null) => (date ? date.getTime() : null);

/** Clerk's Session JSON: Unix milliseconds, the status as it reads at `now` in lower case. */
export function clerkSessionJson(session: ClerkSessionSource, now: Date): ClerkSessionJson {
  const device = session.devices?.[0];
  const mobile = /Mobile|Android|iPhone|iPad/i.test(device?.userAgent ?? '');
  return {
    object: 'session',
    id: clerkSessionId(session),
    client_id: session.clientId,
    user_id: clerkUserId(session.identity),
    status: effectiveStatus(session, now).toLowerCase(),
    // Clerk always has one; a session never used since it was created was last active then.
    last_active_at: (session.lastActiveAt ?? session.createdAt).getTime(),
    last_active_organization_id: session.lastActiveOrganizationId,
    actor: session.actor ?? null,
    expire_at: ms(session.expiresAt),
    abandon_at: ms(session.abandonAt),
    created_at: session.createdAt.getTime(),
    updated_at: session.updatedAt.getTime(),
    latest_activity: device
      ? {
          object: 'session_activity',
          id: device.externalId ?? encodeGlobalId('Device', device.id),
          device_type: null,
          is_mobile: mobile,
          browser_name: null,
          browser_version: null,
          ip_address: device.ipAddress,
          city: device.location,
          country: null,
        }
      : null,
  };
}
