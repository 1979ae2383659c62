// What a new session is made of, checked: the one copy of createSession's rules, shared by the
// resolver and the planned write (src/planner/writes/). Checks run in the order the fields are
// listed, so both paths name the same field first; each failure is a BAD_USER_INPUT naming it.
import { uuidv7 } from 'uuidv7';
import { newSecret, sha256 } from '../auth/secrets.js';
import { sessionKeys } from '../crypto/session-keys.js';
import type { EventInput, EventOrigin } from '../events/record.js';
import type { AuthenticatorAssuranceLevel, CredentialType } from '../generated/prisma/enums.js';
import type { StoredAuthenticationMethod } from './authentication-method.js';
import { future, invalidField, optionalJsonObject, optionalText, p256PublicKey } from './input.js';

/** An IPv4 or IPv6 address, as text. */
function ipAddress(value: string | null | undefined, field: string): string | undefined {
  const text = optionalText(value, field, 64);
  if (text !== undefined && !/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/.test(text)) {
    throw invalidField(field, 'must be an IPv4 or IPv6 address');
  }
  return text;
}

export interface DeviceData {
  userAgent: string | undefined;
  ipAddress: string | undefined;
  location: string | undefined;
}

/** A device as given (createSession's devices, recordSessionActivity's request), checked. */
export function deviceData(device: { userAgent?: string | null; ipAddress?: string | null; location?: string | null }, field: string): DeviceData {
  return {
    userAgent: optionalText(device.userAgent, `${field}.userAgent`, 2048),
    ipAddress: ipAddress(device.ipAddress, `${field}.ipAddress`),
    location: optionalText(device.location, `${field}.location`),
  };
}

/** createSession's input, as GraphQL coerced it. */
export interface NewSessionInput {
  type: CredentialType;
  nickname?: string | null;
  expiresAt?: Date | null;
  abandonAt?: Date | null;
  clientId?: string | null;
  actor?: unknown;
  lastActiveOrganizationId?: string | null;
  aal?: AuthenticatorAssuranceLevel | null;
  authenticationMethods?: readonly { method: CredentialType; aal?: AuthenticatorAssuranceLevel | null; completedAt?: Date | null; provider?: string | null; organization?: string | null }[] | null;
  devices?: readonly { userAgent?: string | null; ipAddress?: string | null; location?: string | null }[] | null;
  clientPublicKey?: string | null;
}

/** A new session's row, its devices, and the secrets its client gets once. */
export interface NewSession {
  id: string;
  identityId: string;
  type: CredentialType;
  nickname: string | undefined;
  expiresAt: Date | undefined;
  abandonAt: Date | undefined;
  clientId: string | undefined;
  actor: Record<string, unknown> | undefined;
  lastActiveOrganizationId: string | undefined;
  aal: AuthenticatorAssuranceLevel | undefined;
  authenticationMethods: StoredAuthenticationMethod[];
  authenticatedAt: Date;
  issuedAt: Date;
  lastActiveAt: Date;
  signingPublicKey: Uint8Array<ArrayBuffer> | undefined;
  encryptedSigningKey: string | undefined;
  tokenHash: Uint8Array<ArrayBuffer>;
  devices: DeviceData[];
  /** The bearer token, shown once; only its hash is stored. */
  sessionToken: string;
}

/** Checks createSession's input and makes the session's id, secrets and keys. */
export function newSession(input: NewSessionInput, identityId: string, now: Date): NewSession {
  const id = uuidv7();
  const keys = input.clientPublicKey ? sessionKeys(p256PublicKey(input.clientPublicKey, 'input.clientPublicKey'), `Session:${id}`) : undefined;
  const sessionToken = newSecret('sgs_');
  const authenticationMethods: StoredAuthenticationMethod[] = (input.authenticationMethods ?? []).map((method, i) => {
    if (method.completedAt && method.completedAt > now) {
      throw invalidField(`input.authenticationMethods[${i}].completedAt`, 'must not be in the future');
    }
    return {
      method: method.method,
      aal: method.aal ?? null,
      completedAt: (method.completedAt ?? now).toISOString(),
      provider: optionalText(method.provider, `input.authenticationMethods[${i}].provider`) ?? null,
      organization: optionalText(method.organization, `input.authenticationMethods[${i}].organization`) ?? null,
    };
  });
  return {
    id,
    identityId,
    type: input.type,
    nickname: optionalText(input.nickname, 'input.nickname'),
    expiresAt: future(input.expiresAt, 'input.expiresAt', now),
    abandonAt: future(input.abandonAt, 'input.abandonAt', now),
    clientId: optionalText(input.clientId, 'input.clientId', 255),
    actor: optionalJsonObject(input.actor, 'input.actor'),
    lastActiveOrganizationId: optionalText(input.lastActiveOrganizationId, 'input.lastActiveOrganizationId'),
    aal: input.aal ?? undefined,
    authenticationMethods,
    authenticatedAt: now,
    issuedAt: now,
    lastActiveAt: now,
    signingPublicKey: keys?.publicKey,
    encryptedSigningKey: keys?.encryptedSessionSigningKey,
    tokenHash: Uint8Array.from(sha256(sessionToken)),
    devices: (input.devices ?? []).map((device, i) => deviceData(device, `input.devices[${i}]`)),
    sessionToken,
  };
}

/** The error for an identity that does not exist (or a vendor id nobody imported). */
export const noSuchIdentity = (given: unknown) => invalidField('input.identityId', `no identity ${String(given)}`);

/** The SESSION_CREATED event a new session is written with. */
export function sessionCreatedEvent(session: NewSession, origin: EventOrigin): EventInput {
  return {
    type: 'SESSION_CREATED',
    identityId: session.identityId,
    sessionId: session.id,
    ...origin,
    details: { type: session.type, clientId: session.clientId ?? null },
    occurredAt: session.issuedAt,
  };
}
