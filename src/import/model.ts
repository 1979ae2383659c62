// What a vendor file becomes before it is written: identities and sessions keyed by the vendor's
// own ids, every value checked. Writing (store.ts) never sees vendor JSON.
import type {
  AuthenticatorAssuranceLevel,
  CredentialType,
  IdentityState,
  SessionStatus,
  Vendor,
} from '../generated/prisma/enums.js';
import type { StoredAuthenticationMethod } from '../domain/authentication-method.js';

export type Json = Record<string, unknown>;

export interface ImportedCredential {
  /** The vendor's key for it (Kratos: the map key, which is the credential type). */
  externalId: string;
  type: CredentialType;
  identifiers: string[];
  config: Json;
  version?: number;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface ImportedVerifiableAddress {
  externalId?: string;
  value: string;
  via: string;
  verified: boolean;
  verifiedAt?: Date;
  status: string;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface ImportedRecoveryAddress {
  externalId?: string;
  value: string;
  via: string;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface ImportedIdentity {
  externalId: string;
  /** Absent when the vendor only names the identity (Grid account, Clerk user): existing data stays. */
  details?: {
    schemaId?: string;
    schemaUrl?: string;
    traits: Json;
    state?: IdentityState;
    stateChangedAt?: Date;
    metadataPublic?: Json;
    metadataAdmin?: Json;
    organizationId?: string;
    createdAt?: Date;
    updatedAt?: Date;
    vendorExtra?: Json;
    credentials: ImportedCredential[];
    verifiableAddresses: ImportedVerifiableAddress[];
    recoveryAddresses: ImportedRecoveryAddress[];
  };
}

export interface ImportedDevice {
  externalId?: string;
  ipAddress?: string;
  location?: string;
  userAgent?: string;
}

export interface ImportedSession {
  externalId: string;
  /** Where the record stands in the file (`data[2]`), for errors that concern the record as a whole. */
  recordPath: string;
  identityExternalId: string;
  type?: CredentialType;
  nickname?: string;
  status: SessionStatus;
  aal?: AuthenticatorAssuranceLevel;
  authenticationMethods?: StoredAuthenticationMethod[];
  clientId?: string;
  actor?: Json;
  lastActiveOrganizationId?: string;
  lastActiveAt?: Date;
  issuedAt?: Date;
  authenticatedAt?: Date;
  createdAt?: Date;
  updatedAt?: Date;
  expiresAt?: Date;
  abandonAt?: Date;
  revokedAt?: Date;
  encryptedSigningKey?: string;
  tokenized?: string;
  vendorExtra?: Json;
  devices: ImportedDevice[];
}

export interface ImportBatch {
  source: Vendor;
  identities: ImportedIdentity[];
  sessions: ImportedSession[];
}
