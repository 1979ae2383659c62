import { builder } from '../builder.js';
import { IdentityStateEnum } from './enums.js';

export const IdentityNode = builder.prismaNode('Identity', {
  description:
    'A person or account that signs in: a Kratos identity, a Grid internal account, a Clerk user.',
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    schemaId: t.exposeString('schemaId', { nullable: true, description: 'Id of the JSON Schema that validates `traits` (Kratos `schema_id`).' }),
    schemaUrl: t.exposeString('schemaUrl', { nullable: true, description: 'URL of that JSON Schema (Kratos `schema_url`).' }),
    traits: t.expose('traits', { type: 'JSON', description: 'The identity\'s own data (email, name, …), validated against its schema.' }),
    state: t.expose('state', { type: IdentityStateEnum, description: 'Whether the identity may sign in.' }),
    stateChangedAt: t.expose('stateChangedAt', { type: 'DateTime', nullable: true, description: 'When `state` last changed.' }),
    organizationId: t.exposeString('organizationId', { nullable: true, description: 'The organization the identity belongs to, if any.' }),
    metadataPublic: t.expose('metadataPublic', { type: 'JSON', nullable: true, description: 'Metadata the identity itself may read.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the identity was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the identity was last changed.' }),
  }),
});
