import { builder } from '../builder.js';

export const VerifiableAddressNode = builder.prismaNode('VerifiableAddress', {
  description: 'An email address or phone number of an identity that can be verified (Kratos `verifiable_addresses`).',
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    value: t.exposeString('value', { description: 'The address itself.' }),
    via: t.exposeString('via', { description: 'How it is reached: `email` or `sms`.' }),
    verified: t.exposeBoolean('verified', { description: 'Whether the identity proved it controls the address.' }),
    verifiedAt: t.expose('verifiedAt', { type: 'DateTime', nullable: true, description: 'When it was verified.' }),
    status: t.exposeString('status', { description: 'Verification flow status (`pending`, `sent`, `completed`).' }),
    externalId: t.exposeString('externalId', { nullable: true, description: 'The address\'s id at the vendor it was imported from.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the address was added.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the address was last changed.' }),
  }),
});

export const RecoveryAddressNode = builder.prismaNode('RecoveryAddress', {
  description: 'An address that can recover the identity\'s account (Kratos `recovery_addresses`).',
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    value: t.exposeString('value', { description: 'The address itself.' }),
    via: t.exposeString('via', { description: 'How it is reached: `email` or `sms`.' }),
    externalId: t.exposeString('externalId', { nullable: true, description: 'The address\'s id at the vendor it was imported from.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the address was added.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the address was last changed.' }),
  }),
});
