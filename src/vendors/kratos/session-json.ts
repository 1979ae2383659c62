// Ory Kratos' `Session` JSON (what `@ory/client` reads): snake_case, the identity embedded, devices,
// authentication methods with Kratos' method names. Depends on rows and domain rules only.
import { derivedAal, kratosMethodName, storedAuthenticationMethods } from '../../domain/authentication-method.js';
import { encodeGlobalId } from '../../domain/global-id.js';
import { effectiveStatus } from '../../domain/session-status.js';
import type { Device, Identity, RecoveryAddress, Session, VerifiableAddress } from '../../generated/prisma/client.js';

export type KratosIdentitySource = Identity & { verifiableAddresses?: VerifiableAddress[]; recoveryAddresses?: RecoveryAddress[] };
export type KratosSessionSource = Session & { identity: KratosIdentitySource; devices: Device[] };

export interface KratosJsonOptions {
  now: Date;
  /** metadata_admin is shown to admin callers only (Kratos' admin API). */
  admin: boolean;
  /** `tokenize_as`: the session as a JWT. */
  tokenized?: string;
}

/** A session's id in Kratos routes: Kratos' uuid for a session imported from Kratos, else `Session:<uuid>`. */
export function kratosSessionId(session: Pick<Session, 'id' | 'externalSource' | 'externalId'>): string {
  return session.externalSource === 'KRATOS' && session.externalId ? session.externalId : encodeGlobalId('Session', session.id);
}

/** An identity's id in Kratos routes: Kratos' uuid for an identity imported from Kratos, else `Identity:<uuid>`. */
export function kratosIdentityId(identity: Pick<Identity, 'id' | 'externalSource' | 'externalId'>): string {
  return identity.externalSource === 'KRATOS' && identity.externalId ? identity.externalId : encodeGlobalId('Identity', identity.id);
}

const iso = (date: Date | null | undefined) => date?.toISOString();
const aalName = (aal: string | null | undefined) => (aal ? aal.toLowerCase() : undefined);

export function kratosIdentityJson(identity: KratosIdentitySource, admin: boolean): Record<string, unknown> {
  return {
    id: kratosIdentityId(identity),
    schema_id: identity.schemaId ?? 'default',
    schema_url: identity.schemaUrl ?? '',
    state: identity.state.toLowerCase(),
    state_changed_at: iso(identity.stateChangedAt),
    traits: identity.traits ?? {},
    verifiable_addresses: identity.verifiableAddresses?.map((a) => ({
      id: a.externalId ?? a.id,
      value: a.value,
      verified: a.verified,
      via: a.via,
      status: a.status,
      verified_at: iso(a.verifiedAt),
      created_at: iso(a.createdAt),
      updated_at: iso(a.updatedAt),
    })),
    recovery_addresses: identity.recoveryAddresses?.map((a) => ({
      id: a.externalId ?? a.id,
      value: a.value,
      via: a.via,
      created_at: iso(a.createdAt),
      updated_at: iso(a.updatedAt),
    })),
    metadata_public: identity.metadataPublic ?? null,
    ...(admin && identity.metadataAdmin != null ? { metadata_admin: identity.metadataAdmin } : {}),
    created_at: iso(identity.createdAt),
    updated_at: iso(identity.updatedAt),
    organization_id: identity.organizationId ?? undefined,
  };
}

/** Kratos' Session JSON; `active` and the methods' times as they read at `now`. */
export function kratosSessionJson(session: KratosSessionSource, options: KratosJsonOptions): Record<string, unknown> {
  return {
    id: kratosSessionId(session),
    active: effectiveStatus(session, options.now) === 'ACTIVE',
    expires_at: iso(session.expiresAt),
    authenticated_at: iso(session.authenticatedAt ?? session.issuedAt),
    // Kratos always has a level: a session without methods is aal0.
    authenticator_assurance_level: aalName(derivedAal(session.aal, session.authenticationMethods)) ?? 'aal0',
    authentication_methods: storedAuthenticationMethods(session.authenticationMethods).map((m) => ({
      method: kratosMethodName(m.method),
      aal: aalName(m.aal),
      completed_at: m.completedAt ?? undefined,
      provider: m.provider ?? undefined,
      organization: m.organization ?? undefined,
    })),
    issued_at: iso(session.issuedAt),
    identity: kratosIdentityJson(session.identity, options.admin),
    devices: session.devices.map((d) => ({ id: d.externalId ?? d.id, ip_address: d.ipAddress, user_agent: d.userAgent, location: d.location })),
    ...(options.tokenized ? { tokenized: options.tokenized } : {}),
  };
}
