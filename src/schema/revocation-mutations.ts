// Signed operations, in two steps: revokeSession / revokeOtherSessions / revokeCredential /
// addCredential hand out a Challenge and change nothing; confirmChallenge (or its older name
// confirmRevocation) checks the signature over it and acts.
import { builder, type SchemaTypes } from '../builder.js';
import type { Challenge } from '../generated/prisma/client.js';
import type { ConfirmedOperation } from '../revocation/service.js';
import {
  confirmSigned,
  requestCredentialAddition,
  requestCredentialRevocation,
  requestOtherSessionsRevocation,
  requestSessionRevocation,
} from '../revocation/requests.js';
import { ChallengeOperationEnum, ChallengeType } from './challenge.js';
import { CredentialNode } from './credential.js';
import { CredentialTypeEnum } from './enums.js';
import { SessionNode } from './session.js';

/** The payload of each first step: the challenge, and nothing done yet. */
const challengePayload = {
  description: 'The challenge to sign; nothing has changed yet.',
  outputFields: (t: PothosSchemaTypes.ObjectFieldBuilder<SchemaTypes, { challenge: Challenge }>) => ({
    challenge: t.field({ type: ChallengeType, description: 'Sign its payloadToSign.', resolve: (payload) => payload.challenge }),
  }),
};

builder.relayMutationField(
  'revokeSession',
  {
    description: 'What revokeSession needs.',
    inputFields: (t) => ({ sessionId: t.id({ required: true, description: 'The session to sign out (`Session:<uuid>`, or an imported session\'s vendor id).' }) }),
  },
  {
    description:
      'Step one of signing a session out: returns a challenge to sign with the key of any active session of the same account (the target itself included), then call confirmRevocation. Changes nothing.',
    resolve: async (_root, { input }, ctx) => {
      return { challenge: await requestSessionRevocation(ctx, input) };
    },
  },
  challengePayload,
);

builder.relayMutationField(
  'revokeOtherSessions',
  {
    description: 'What revokeOtherSessions needs.',
    inputFields: (t) => ({
      keepSessionId: t.id({
        required: false,
        description: 'The session that stays signed in and signs; a session caller may omit it (it keeps itself), an admin must give it.',
      }),
    }),
  },
  {
    description:
      'Step one of "sign out all other devices" (Kratos disableMyOtherSessions): returns a challenge the kept session must sign, then call confirmRevocation. Changes nothing.',
    resolve: async (_root, { input }, ctx) => {
      return { challenge: await requestOtherSessionsRevocation(ctx, input) };
    },
  },
  challengePayload,
);

builder.relayMutationField(
  'revokeCredential',
  {
    description: 'What revokeCredential needs.',
    inputFields: (t) => ({ credentialId: t.id({ required: true, description: 'The credential to revoke (`Credential:<uuid>`).' }) }),
  },
  {
    description:
      'Step one of revoking a credential: returns a challenge to sign with the key of an active session of the same account, then call confirmRevocation. Changes nothing.',
    resolve: async (_root, { input }, ctx) => {
      return { challenge: await requestCredentialRevocation(ctx, input) };
    },
  },
  challengePayload,
);

builder.relayMutationField(
  'addCredential',
  {
    description: 'What addCredential needs (Grid\'s POST /auth/credentials).',
    inputFields: (t) => ({
      type: t.field({ type: CredentialTypeEnum, required: true, description: 'The kind of credential (Grid: OAUTH, EMAIL_OTP, PASSKEY).' }),
      identifiers: t.stringList({ required: true, description: 'What identifies it: an email address, an OAuth subject, a passkey id (1 to 20).' }),
      nickname: t.string({ required: false, description: 'A name to show for it.' }),
      identityId: t.id({ required: false, description: 'Whose credential it is: an admin must say; a session adds to its own identity.' }),
    }),
  },
  {
    description:
      'Step one of adding a credential: returns a challenge (its type is the credential\'s) to sign with the key of an active session of the same account, then call confirmChallenge. Changes nothing.',
    resolve: async (_root, { input }, ctx) => {
      return { challenge: await requestCredentialAddition(ctx, input) };
    },
  },
  challengePayload,
);

// One confirmation for every signed operation; confirmRevocation is the same under the name it had
// before credentials could be added, and stays.
const confirmInput = {
  description: 'What confirmChallenge (and confirmRevocation) needs.',
  inputFields: (t: PothosSchemaTypes.InputFieldBuilder<SchemaTypes, 'InputObject'>) => ({
    requestId: t.string({ required: true, description: 'The challenge\'s requestId.' }),
    signature: t.string({
      required: true,
      description:
        'ECDSA P-256/SHA-256 signature over the decoded payloadToSign: base64 or base64url of r||s (64 bytes, as WebCrypto makes it) or DER; or a stamp, base64url JSON {publicKey, scheme, signature}.',
    }),
  }),
};

const confirmOutput = {
  description: 'What the confirmed challenge did.',
  outputFields: (t: PothosSchemaTypes.ObjectFieldBuilder<SchemaTypes, ConfirmedOperation>) => ({
    operation: t.field({ type: ChallengeOperationEnum, description: 'The operation performed.', resolve: (p) => p.operation }),
    session: t.field({
      type: SessionNode,
      description: 'REVOKE_SESSION: the revoked session. Otherwise: the session that signed.',
      resolve: (p) => p.session,
    }),
    revokedSessions: t.field({
      type: [SessionNode],
      description: 'Every session this revoked (REVOKE_OTHER_SESSIONS: all but the signer).',
      resolve: (p) => p.revokedSessions,
    }),
    credential: t.field({
      type: CredentialNode,
      nullable: true,
      description: 'REVOKE_CREDENTIAL: the revoked credential; ADD_CREDENTIAL: the new one.',
      resolve: (p) => p.credential,
    }),
  }),
};

const confirmErrors =
  'Errors: CHALLENGE_NOT_FOUND, CHALLENGE_EXPIRED, CHALLENGE_CONSUMED, INVALID_SIGNATURE, SESSION_ALREADY_REVOKED, CREDENTIAL_ALREADY_REVOKED.';

for (const [name, description] of [
  ['confirmChallenge', `Step two of every signed operation (revocations and addCredential): verifies the signature against the stored challenge and performs the operation, once. ${confirmErrors}`],
  ['confirmRevocation', `The same as confirmChallenge, under the name it had before credentials could be added; it confirms every operation. ${confirmErrors}`],
] as const) {
  builder.relayMutationField(
    name,
    { ...confirmInput, name: name === 'confirmChallenge' ? 'ConfirmChallengeInput' : 'ConfirmRevocationInput' },
    {
      description,
      resolve: (_root, { input }, ctx) => confirmSigned(ctx, input.requestId, input.signature),
    },
    { ...confirmOutput, name: name === 'confirmChallenge' ? 'ConfirmChallengePayload' : 'ConfirmRevocationPayload' },
  );
}
