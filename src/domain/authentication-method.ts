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

/** Kratos' method names and ours, both ways (the importer reads them, the Kratos routes write them). */
export const kratosMethodTypes: Record<string, CredentialType> = {
  password: 'PASSWORD',
  oidc: 'OIDC',
  saml: 'SAML',
  totp: 'TOTP',
  lookup_secret: 'LOOKUP_SECRET',
  webauthn: 'WEBAUTHN',
  passkey: 'PASSKEY',
  code: 'CODE',
  code_recovery: 'CODE_RECOVERY',
  link_recovery: 'LINK_RECOVERY',
  profile: 'PROFILE',
  'v0.6_legacy_session': 'LEGACY_SESSION',
};

const kratosMethodNames = Object.fromEntries(Object.entries(kratosMethodTypes).map(([name, type]) => [type, name])) as Partial<Record<CredentialType, string>>;

/** Kratos' name for a method; Grid's types, which Kratos lacks, in lower case (`oauth`, `email_otp`). */
export function kratosMethodName(type: CredentialType): string {
  return kratosMethodNames[type] ?? type.toLowerCase();
}

/** The stored column as a list (it is always written as one). */
export function storedAuthenticationMethods(value: unknown): StoredAuthenticationMethod[] {
  return Array.isArray(value) ? (value as StoredAuthenticationMethod[]) : [];
}

/**
 * The assurance level a session reached, as Kratos derives it when none was stored
 * (Session.SetAuthenticatorAssuranceLevel): a first and a second factor make AAL2 (OIDC or SAML at
 * AAL2 count as both: the provider did the MFA), any other method AAL1. A session with neither a
 * stored level nor methods has none (null); Kratos' JSON shows that as aal0.
 */
export function derivedAal(stored: AuthenticatorAssuranceLevel | null, methods: unknown): AuthenticatorAssuranceLevel | null {
  if (stored) return stored;
  const list = storedAuthenticationMethods(methods);
  if (list.length === 0) return null;
  let first = false;
  let second = false;
  for (const m of list) {
    if (m.aal === 'AAL1') first = true;
    if (m.aal === 'AAL2') {
      second = true;
      if (m.method === 'OIDC' || m.method === 'SAML') first = true;
    }
  }
  return first && second ? 'AAL2' : 'AAL1';
}

/** derivedAal() as SQL over a session row's alias `s` (planned reads). */
export function derivedAalSql(s: string): string {
  const methods = `(CASE WHEN jsonb_typeof(${s}.authentication_methods) = 'array' THEN ${s}.authentication_methods ELSE '[]'::jsonb END)`;
  const has = (condition: string) => `EXISTS (SELECT 1 FROM jsonb_array_elements(${methods}) m WHERE ${condition})`;
  return `COALESCE(${s}.aal::text, CASE WHEN jsonb_array_length(${methods}) = 0 THEN NULL
    WHEN ${has(`m->>'aal' = 'AAL2'`)} AND (${has(`m->>'aal' = 'AAL1'`)} OR ${has(`m->>'aal' = 'AAL2' AND m->>'method' IN ('OIDC', 'SAML')`)}) THEN 'AAL2'
    ELSE 'AAL1' END)`;
}
