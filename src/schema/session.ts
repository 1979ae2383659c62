import { builder } from '../builder.js';
import { AuthenticatorAssuranceLevelEnum, CredentialTypeEnum, SessionStatusEnum } from './enums.js';
import { effectiveStatus } from './session-status.js';

export const SessionNode = builder.prismaNode('Session', {
  description: 'A signed-in session of an identity on one client or device.',
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    identity: t.relation('identity', { description: 'Who the session belongs to.' }),
    type: t.expose('type', { type: CredentialTypeEnum, nullable: true, description: 'Type of the credential that issued the session (Grid `type`).' }),
    nickname: t.exposeString('nickname', { nullable: true, description: 'A name for the session shown to its owner (Grid `nickname`).' }),
    status: t.field({
      type: SessionStatusEnum,
      description: 'Where the session is in its life; EXPIRED or ABANDONED as soon as that time passes.',
      select: { status: true, expiresAt: true, abandonAt: true },
      resolve: (session) => effectiveStatus(session),
    }),
    active: t.boolean({
      description: 'Whether the session authenticates now (status ACTIVE; Kratos `active`).',
      select: { status: true, expiresAt: true, abandonAt: true },
      resolve: (session) => effectiveStatus(session) === 'ACTIVE',
    }),
    aal: t.expose('aal', { type: AuthenticatorAssuranceLevelEnum, nullable: true, description: 'Authenticator assurance level reached (Kratos `authenticator_assurance_level`).' }),
    clientId: t.exposeString('clientId', { nullable: true, description: 'The client (browser or app install) the session lives in (Clerk `client_id`).' }),
    lastActiveAt: t.expose('lastActiveAt', { type: 'DateTime', nullable: true, description: 'When the session was last used (Clerk `last_active_at`).' }),
    issuedAt: t.expose('issuedAt', { type: 'DateTime', description: 'When the session was issued (Kratos `issued_at`).' }),
    authenticatedAt: t.expose('authenticatedAt', { type: 'DateTime', nullable: true, description: 'When its owner last authenticated (Kratos `authenticated_at`).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the session was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the session was last changed.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When the session expires; null for never.' }),
    abandonAt: t.expose('abandonAt', { type: 'DateTime', nullable: true, description: 'When an unused session counts as abandoned (Clerk `abandon_at`).' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true, description: 'When the session was revoked.' }),
    devices: t.relation('devices', {
      description: 'Devices the session was used from, most recently seen first.',
      query: { orderBy: [{ lastSeenAt: 'desc' }, { id: 'desc' }] },
    }),
  }),
});
