import { requireAdmin } from '../auth/guards.js';
import { builder } from '../builder.js';
import { resolveId } from '../domain/vendor-ids.js';
import { codedError } from '../errors.js';
import { eventOrigin } from '../events/origin.js';
import { withEvents } from '../events/record.js';
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
      const identity = await withEvents(ctx.prisma, ctx.events, async (tx, events) => {
        const created = await tx.identity.create({ data });
        events.push({ type: 'IDENTITY_CREATED', identityId: created.id, ...eventOrigin(ctx), details: { state: created.state }, occurredAt: now });
        return created;
      });
      return { identity };
    },
  },
  {
    description: 'The identity createIdentity created.',
    outputFields: (t) => ({
      identity: t.field({ type: IdentityNode, description: 'The new identity.', resolve: (payload) => payload.identity }),
    }),
  },
);

builder.relayMutationField(
  'setIdentityState',
  {
    description: 'What setIdentityState needs.',
    inputFields: (t) => ({
      identityId: t.id({ required: true, description: 'The identity (`Identity:<uuid>`, or an imported identity\'s vendor id).' }),
      state: t.field({ type: IdentityStateEnum, required: true, description: 'ACTIVE, or INACTIVE to stop every session of it from authenticating.' }),
    }),
  },
  {
    description:
      'Activates or deactivates an identity (admin; Kratos PATCH /admin/identities state). An INACTIVE identity\'s sessions stop authenticating at once, and their live subscriptions end. Setting the state it already has changes nothing and records no event.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const identityId = await resolveId(ctx.prisma, input.identityId, 'Identity');
      const now = ctx.now();
      const identity = await withEvents(ctx.prisma, ctx.events, async (tx, events) => {
        const found = await tx.identity.findUnique({ where: { id: identityId }, select: { state: true } });
        if (!found) throw codedError('NOT_FOUND', `No Identity ${input.identityId}`);
        if (found.state === input.state) return tx.identity.findUniqueOrThrow({ where: { id: identityId } });
        // Compare-and-set: of two concurrent changes, each records the state it actually replaced.
        const { count } = await tx.identity.updateMany({ where: { id: identityId, state: found.state }, data: { state: input.state, stateChangedAt: now } });
        if (count === 0) throw codedError('CONFLICT', `Identity ${input.identityId} changed meanwhile; try again`);
        events.push({
          type: 'IDENTITY_STATE_CHANGED',
          identityId,
          ...eventOrigin(ctx),
          details: { previousState: found.state, state: input.state },
          occurredAt: now,
        });
        return tx.identity.findUniqueOrThrow({ where: { id: identityId } });
      });
      return { identity };
    },
  },
  {
    description: 'The identity with its new state.',
    outputFields: (t) => ({
      identity: t.field({ type: IdentityNode, description: 'The identity.', resolve: (payload) => payload.identity }),
    }),
  },
);
