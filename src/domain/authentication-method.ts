// Kratos' authentication_methods live in one JSONB column of the session (they are only ever read
// with it), stored with our enum names: [{ method, aal, completedAt, provider, organization }].
import type { AuthenticatorAssuranceLevel, CredentialType } from '../generated/prisma/enums.js';

export interface StoredAuthenticationMethod {
  method: CredentialType;
  aal?: AuthenticatorAssuranceLevel | null;
  /** ISO 8601. */
  completedAt?: string | null;
  provider?: string | null;
  organization?: string | null;
}
