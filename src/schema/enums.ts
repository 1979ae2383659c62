// GraphQL enums mirror the Prisma enums one to one, so values pass between the two untouched.
import { builder } from '../builder.js';
import {
  AuthenticatorAssuranceLevel,
  CredentialType,
  IdentityState,
  SessionEventType,
  SessionStatus,
  Vendor,
} from '../generated/prisma/enums.js';

export const VendorEnum = builder.enumType(Vendor, {
  name: 'Vendor',
  description: 'The system an imported record came from.',
});

export const IdentityStateEnum = builder.enumType(IdentityState, {
  name: 'IdentityState',
  description: 'Whether the identity may sign in (Kratos `state`).',
});

export const CredentialTypeEnum = builder.enumType(CredentialType, {
  name: 'CredentialType',
  description:
    "A kind of credential: Grid's OAUTH, EMAIL_OTP and PASSKEY and Kratos' credential and authentication method types (LEGACY_SESSION is Kratos' `v0.6_legacy_session`).",
});

export const SessionStatusEnum = builder.enumType(SessionStatus, {
  name: 'SessionStatus',
  description:
    "Where a session is in its life (Clerk's statuses). Only ACTIVE sessions authenticate; a session past its expiry or abandon time reads EXPIRED or ABANDONED.",
});

export const AuthenticatorAssuranceLevelEnum = builder.enumType(AuthenticatorAssuranceLevel, {
  name: 'AuthenticatorAssuranceLevel',
  description: 'How strongly the session was authenticated (NIST AAL, as Kratos reports it).',
});

export const SessionEventTypeEnum = builder.enumType('SessionEventType', {
  description: 'What happened, in one row of the audit trail.',
  values: {
    SESSION_CREATED: { value: SessionEventType.SESSION_CREATED, description: 'A session was created (createSession).' },
    SESSION_IMPORTED: { value: SessionEventType.SESSION_IMPORTED, description: 'A session was imported from a vendor, or updated by a re-import (details: source, externalId, status, updated).' },
    SESSION_ACTIVITY_RECORDED: { value: SessionEventType.SESSION_ACTIVITY_RECORDED, description: 'A session was used (recordSessionActivity); at most one per session per EVENT_ACTIVITY_INTERVAL_SECONDS (details: deviceId).' },
    SESSION_EXTENDED: { value: SessionEventType.SESSION_EXTENDED, description: 'A session\'s expiry moved (details: previousExpiresAt, expiresAt).' },
    SESSION_REVOKED: { value: SessionEventType.SESSION_REVOKED, description: 'A session was signed out: by the signature of `actorSession`, or by an admin (`reason`, `actorApiTokenId`).' },
    OTHER_SESSIONS_REVOKED: { value: SessionEventType.OTHER_SESSIONS_REVOKED, description: '"Sign out other devices": `session` stayed; each revoked session has its own SESSION_REVOKED (details: revokedCount, revokedSessionIds).' },
    SESSION_EXPIRED: { value: SessionEventType.SESSION_EXPIRED, description: 'A session\'s expiry passed (recorded within EVENT_LAPSE_SWEEP_SECONDS; occurredAt is the expiry).' },
    SESSION_ABANDONED: { value: SessionEventType.SESSION_ABANDONED, description: 'A session\'s abandon time passed unused (recorded like SESSION_EXPIRED).' },
    SESSION_TOKEN_ISSUED: { value: SessionEventType.SESSION_TOKEN_ISSUED, description: 'A session token (JWT) was minted; at most one per session per EVENT_ACTIVITY_INTERVAL_SECONDS (details: template, expiresAt).' },
    CREDENTIAL_ADDED: { value: SessionEventType.CREDENTIAL_ADDED, description: 'A credential was added (signed addCredential, or an import; details: type).' },
    CREDENTIAL_REVOKED: { value: SessionEventType.CREDENTIAL_REVOKED, description: 'A credential was revoked by a signed revokeCredential (details: type).' },
    IDENTITY_CREATED: { value: SessionEventType.IDENTITY_CREATED, description: 'An identity was created (createIdentity; details: state).' },
    IDENTITY_IMPORTED: { value: SessionEventType.IDENTITY_IMPORTED, description: 'An identity was created by an import (details: source, externalId).' },
    IDENTITY_STATE_CHANGED: { value: SessionEventType.IDENTITY_STATE_CHANGED, description: 'An identity was activated or deactivated (details: previousState, state).' },
  },
});
