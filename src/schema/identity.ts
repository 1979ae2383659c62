import { seesAdminData } from '../auth/guards.js';
import { builder } from '../builder.js';
import { VerifiableAddressNode, RecoveryAddressNode } from './address.js';
import { CredentialNode } from './credential.js';
import { sessionPage, sessionWhere } from './connections.js';
import { IdentityStateEnum, SessionStatusEnum, VendorEnum } from './enums.js';
import { SessionConnection } from './session.js';

export const IdentityNode = builder.prismaNode('Identity', {
  description:
    'A person or account that signs in: a Kratos identity, a Grid internal account, a Clerk user.',
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    externalSource: t.expose('externalSource', { type: VendorEnum, nullable: true, description: 'The vendor an imported identity came from.' }),
    externalId: t.exposeString('externalId', { nullable: true, description: 'The identity\'s id at that vendor (Grid `InternalAccount:…`, Kratos uuid, Clerk `user_…`).' }),
    schemaId: t.exposeString('schemaId', { nullable: true, description: 'Id of the JSON Schema that validates `traits` (Kratos `schema_id`).' }),
    schemaUrl: t.exposeString('schemaUrl', { nullable: true, description: 'URL of that JSON Schema (Kratos `schema_url`).' }),
    traits: t.expose('traits', { type: 'JSON', description: 'The identity\'s own data (email, name, …), validated against its schema.' }),
    state: t.expose('state', { type: IdentityStateEnum, description: 'Whether the identity may sign in.' }),
    stateChangedAt: t.expose('stateChangedAt', { type: 'DateTime', nullable: true, description: 'When `state` last changed.' }),
    organizationId: t.exposeString('organizationId', { nullable: true, description: 'The organization the identity belongs to, if any.' }),
    metadataPublic: t.expose('metadataPublic', { type: 'JSON', nullable: true, description: 'Metadata the identity itself may read.' }),
    metadataAdmin: t.field({
      type: 'JSON',
      nullable: true,
      description: 'Metadata only administrators may read; null for session callers.',
      resolve: (identity, _args, ctx) => (seesAdminData(ctx) ? identity.metadataAdmin : null),
    }),
    verifiableAddresses: t.relation('verifiableAddresses', {
      type: VerifiableAddressNode,
      description: 'Addresses that can be verified, oldest first.',
      query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    }),
    recoveryAddresses: t.relation('recoveryAddresses', {
      type: RecoveryAddressNode,
      description: 'Addresses that can recover the account, oldest first.',
      query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    }),
    credentials: t.relation('credentials', {
      type: CredentialNode,
      description: 'Ways the identity signs in, oldest first (revoked ones included, with `revokedAt`).',
      query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    }),
    sessions: t.field({
      type: SessionConnection,
      description: 'The identity\'s sessions, newest first.',
      args: {
        ...t.arg.connectionArgs(),
        status: t.arg({ type: [SessionStatusEnum], required: false, description: 'Only sessions whose status is one of these.' }),
        active: t.arg.boolean({ required: false, description: 'Only sessions that authenticate now (true) or do not (false).' }),
      },
      resolve: (identity, args, ctx, info) =>
        sessionPage(
          ctx,
          info,
          { AND: [{ identityId: identity.id }, sessionWhere({ status: args.status, active: args.active }, ctx, ctx.now())] },
          args,
        ),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the identity was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the identity was last changed.' }),
  }),
});

export const IdentityConnection = builder.connectionObject(
  { type: IdentityNode, name: 'IdentityConnection', description: 'A page of identities, newest first.' },
  { name: 'IdentityEdge', description: 'An identity in a page of identities.' },
);
