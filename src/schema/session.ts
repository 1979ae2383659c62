import { seesAdminData } from '../auth/guards.js';
import { builder } from '../builder.js';
import { encodeGlobalId } from '../domain/global-id.js';
import { derivedAal, storedAuthenticationMethods } from '../domain/authentication-method.js';
import { AuthenticationMethodType } from './authentication-method.js';
import { AuthenticatorAssuranceLevelEnum, CredentialTypeEnum, SessionStatusEnum, VendorEnum } from './enums.js';
import { effectiveStatus } from '../domain/session-status.js';

export const SessionNode = builder.prismaNode('Session', {
  description: 'A signed-in session of an identity on one client or device.',
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    identity: t.relation('identity', { description: 'Who the session belongs to.' }),
    externalSource: t.expose('externalSource', { type: VendorEnum, nullable: true, description: 'The vendor an imported session came from.' }),
    externalId: t.exposeString('externalId', { nullable: true, description: 'The session\'s id at that vendor (Grid `Session:…`, Kratos uuid, Clerk `sess_…`).' }),
    type: t.expose('type', { type: CredentialTypeEnum, nullable: true, description: 'Type of the credential that issued the session (Grid `type`).' }),
    nickname: t.exposeString('nickname', { nullable: true, description: 'A name for the session shown to its owner (Grid `nickname`).' }),
    status: t.field({
      type: SessionStatusEnum,
      description: 'Where the session is in its life; EXPIRED or ABANDONED as soon as that time passes.',
      resolve: (session, _args, ctx) => effectiveStatus(session, ctx.now()),
    }),
    active: t.boolean({
      description: 'Whether the session authenticates now (status ACTIVE; Kratos `active`).',
      resolve: (session, _args, ctx) => effectiveStatus(session, ctx.now()) === 'ACTIVE',
    }),
    aal: t.field({
      type: AuthenticatorAssuranceLevelEnum,
      nullable: true,
      description: 'Authenticator assurance level reached (Kratos `authenticator_assurance_level`); when none was stored, derived from the authentication methods as Kratos does.',
      resolve: (session) => derivedAal(session.aal, session.authenticationMethods),
    }),
    authenticationMethods: t.field({
      type: [AuthenticationMethodType],
      description: 'How the session was authenticated, step by step (Kratos `authentication_methods`).',
      resolve: (session) => storedAuthenticationMethods(session.authenticationMethods),
    }),
    clientId: t.exposeString('clientId', { nullable: true, description: 'The client (browser or app install) the session lives in (Clerk `client_id`).' }),
    actor: t.expose('actor', { type: 'JSON', nullable: true, description: 'Who acts on the user\'s behalf in an impersonation session (Clerk `actor`).' }),
    lastActiveOrganizationId: t.exposeString('lastActiveOrganizationId', { nullable: true, description: 'The organization last active in the session (Clerk `last_active_organization_id`).' }),
    lastActiveAt: t.expose('lastActiveAt', { type: 'DateTime', nullable: true, description: 'When the session was last used (Clerk `last_active_at`).' }),
    issuedAt: t.expose('issuedAt', { type: 'DateTime', description: 'When the session was issued (Kratos `issued_at`).' }),
    authenticatedAt: t.expose('authenticatedAt', { type: 'DateTime', nullable: true, description: 'When its owner last authenticated (Kratos `authenticated_at`).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the session was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the session was last changed.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When the session expires (Grid `expiresAt`, Kratos `expires_at`, Clerk `expire_at`); null for never.' }),
    abandonAt: t.expose('abandonAt', { type: 'DateTime', nullable: true, description: 'When an unused session counts as abandoned (Clerk `abandon_at`).' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true, description: 'When the session was revoked.' }),
    revokedBySessionId: t.field({
      type: 'ID',
      nullable: true,
      description: 'The session whose signature revoked this one (`Session:<uuid>`); null when an admin revoked it.',
      resolve: (session) => (session.revokedBySessionId ? encodeGlobalId('Session', session.revokedBySessionId) : null),
    }),
    revocationReason: t.string({
      nullable: true,
      description: 'Why an administrator revoked the session; null for session callers.',
      resolve: (session, _args, ctx) => (seesAdminData(ctx) ? session.revocationReason : null),
    }),
    tokenized: t.exposeString('tokenized', { nullable: true, description: 'The session as a signed JWT, when one was issued (Kratos `tokenized`).' }),
    signingPublicKey: t.string({
      nullable: true,
      description: 'The session\'s P-256 public key (SEC1 compressed, hex) that verifies its signed requests.',
      resolve: (session) => (session.signingPublicKey ? Buffer.from(session.signingPublicKey).toString('hex') : null),
    }),
    devices: t.relation('devices', {
      description: 'Devices the session was used from, most recently seen first.',
      query: { orderBy: [{ lastSeenAt: 'desc' }, { id: 'desc' }] },
    }),
  }),
});

export const SessionConnection = builder.connectionObject(
  { type: SessionNode, name: 'SessionConnection', description: 'A page of sessions, newest first.' },
  { name: 'SessionEdge', description: 'A session in a page of sessions.' },
);
