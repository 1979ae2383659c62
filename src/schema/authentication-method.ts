// Kratos' authentication_methods live in one JSONB column of the session (they are only ever read
// with it), stored with our enum names: [{ method, aal, completedAt, provider, organization }].
import { builder } from '../builder.js';
import type { StoredAuthenticationMethod } from '../domain/authentication-method.js';
import { AuthenticatorAssuranceLevelEnum, CredentialTypeEnum } from './enums.js';

export const AuthenticationMethodType = builder.objectRef<StoredAuthenticationMethod>('AuthenticationMethod').implement({
  description: 'One step of how a session was authenticated (Kratos `authentication_methods`).',
  fields: (t) => ({
    method: t.field({ type: CredentialTypeEnum, description: 'The method used.', resolve: (m) => m.method }),
    aal: t.field({
      type: AuthenticatorAssuranceLevelEnum,
      nullable: true,
      description: 'The assurance level this step reached.',
      resolve: (m) => m.aal ?? null,
    }),
    completedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the step was completed.',
      resolve: (m) => (m.completedAt ? new Date(m.completedAt) : null),
    }),
    provider: t.string({ nullable: true, description: 'OIDC or SAML provider, for social sign-in.', resolve: (m) => m.provider ?? null }),
    organization: t.string({ nullable: true, description: 'The organization whose provider was used.', resolve: (m) => m.organization ?? null }),
  }),
});
