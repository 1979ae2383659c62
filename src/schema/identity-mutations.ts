import { requireAdmin } from '../auth/guards.js';
import { builder } from '../builder.js';
import { IdentityStateEnum } from './enums.js';
import { IdentityNode } from './identity.js';
import { addressVia, jsonObject, nonEmpty, optionalJsonObject, optionalText } from './input.js';

const VerifiableAddressInput = builder.inputType('VerifiableAddressInput', {
  description: 'An address to verify, for createIdentity.',
  fields: (t) => ({
    value: t.string({ required: true, description: 'The email address or phone number.' }),
    via: t.string({ required: true, description: '`email` or `sms`.' }),
    verified: t.boolean({ required: false, description: 'Whether it is already verified (default false).' }),
  }),
});

const RecoveryAddressInput = builder.inputType('RecoveryAddressInput', {
  description: 'An address that can recover the account, for createIdentity.',
  fields: (t) => ({
    value: t.string({ required: true, description: 'The email address or phone number.' }),
    via: t.string({ required: true, description: '`email` or `sms`.' }),
  }),
});

builder.relayMutationField(
  'createIdentity',
  {
    description: 'What createIdentity needs.',
    inputFields: (t) => ({
      traits: t.field({ type: 'JSON', required: true, description: 'The identity\'s own data (a JSON object).' }),
      schemaId: t.string({ required: false, description: 'Id of the JSON Schema the traits follow.' }),
      schemaUrl: t.string({ required: false, description: 'URL of that JSON Schema.' }),
      state: t.field({ type: IdentityStateEnum, required: false, description: 'ACTIVE (default) or INACTIVE.' }),
      metadataPublic: t.field({ type: 'JSON', required: false, description: 'Metadata the identity may read (a JSON object).' }),
      metadataAdmin: t.field({ type: 'JSON', required: false, description: 'Metadata only administrators may read (a JSON object).' }),
      organizationId: t.string({ required: false, description: 'The organization the identity belongs to.' }),
      verifiableAddresses: t.field({ type: [VerifiableAddressInput], required: false, description: 'Addresses to verify.' }),
      recoveryAddresses: t.field({ type: [RecoveryAddressInput], required: false, description: 'Addresses that can recover the account.' }),
    }),
  },
  {
    description: 'Creates an identity (admin).',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const now = ctx.now();
      const data = {
        traits: jsonObject(input.traits, 'input.traits') as object,
        schemaId: optionalText(input.schemaId, 'input.schemaId'),
        schemaUrl: optionalText(input.schemaUrl, 'input.schemaUrl', 2048),
        state: input.state ?? undefined,
        stateChangedAt: input.state ? now : undefined,
        metadataPublic: optionalJsonObject(input.metadataPublic, 'input.metadataPublic') as object | undefined,
        metadataAdmin: optionalJsonObject(input.metadataAdmin, 'input.metadataAdmin') as object | undefined,
        organizationId: optionalText(input.organizationId, 'input.organizationId'),
        verifiableAddresses: {
          create: (input.verifiableAddresses ?? []).map((address, i) => ({
            value: nonEmpty(address.value, `input.verifiableAddresses[${i}].value`),
            via: addressVia(address.via, `input.verifiableAddresses[${i}].via`),
            verified: address.verified ?? false,
            verifiedAt: address.verified ? now : null,
            status: address.verified ? 'completed' : 'pending',
          })),
        },
        recoveryAddresses: {
          create: (input.recoveryAddresses ?? []).map((address, i) => ({
            value: nonEmpty(address.value, `input.recoveryAddresses[${i}].value`),
            via: addressVia(address.via, `input.recoveryAddresses[${i}].via`),
          })),
        },
      };
      return { identity: await ctx.prisma.identity.create({ data }) };
    },
  },
  {
    description: 'The identity createIdentity created.',
    outputFields: (t) => ({
      identity: t.field({ type: IdentityNode, description: 'The new identity.', resolve: (payload) => payload.identity }),
    }),
  },
);
