// GraphQL enums mirror the Prisma enums one to one, so values pass between the two untouched.
import { builder } from '../builder.js';
import {
  AuthenticatorAssuranceLevel,
  CredentialType,
  IdentityState,
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
