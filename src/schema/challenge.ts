import { builder } from '../builder.js';
import { ChallengeOperation } from '../generated/prisma/enums.js';
import { CredentialTypeEnum } from './enums.js';

export const ChallengeOperationEnum = builder.enumType(ChallengeOperation, {
  name: 'ChallengeOperation',
  description: 'What a signed-request challenge authorizes once signed.',
});

export const ChallengeType = builder.prismaObject('Challenge', {
  description:
    "A payload a verified session must sign before a sensitive operation runs (Grid's 202 challenge): sign `payloadToSign` and send the signature with `requestId`.",
  fields: (t) => ({
    requestId: t.exposeString('requestId', { description: 'Identifies the challenge; send it back with the signature.' }),
    payloadToSign: t.exposeString('payloadToSign', { description: 'Base64 of the bytes to sign with the session\'s P-256 key (ECDSA, SHA-256).' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'The signature must arrive before this time.' }),
    type: t.expose('credentialType', {
      type: CredentialTypeEnum,
      nullable: true,
      description: 'The credential type involved: added, revoked, or that issued the session being revoked.',
    }),
    operation: t.expose('operation', { type: ChallengeOperationEnum, description: 'What the signature authorizes.' }),
  }),
});
