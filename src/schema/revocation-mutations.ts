// Signed operations, in two steps: revokeSession / revokeOtherSessions / revokeCredential /
// addCredential hand out a Challenge and change nothing; confirmChallenge (or its older name
// confirmRevocation) checks the signature over it and acts.
import { forbidden, requireCaller } from '../auth/guards.js';
import { sessionById } from '../auth/session-rows.js';
import { builder, type SchemaTypes } from '../builder.js';
import type { Context } from '../context.js';
import { codedError } from '../errors.js';
import type { Challenge } from '../generated/prisma/client.js';
import { confirmChallenge, createChallenge, type ConfirmedOperation } from '../revocation/service.js';
import { uuidv7 } from 'uuidv7';
import { ChallengeOperationEnum, ChallengeType } from './challenge.js';
import { CredentialNode } from './credential.js';
import { CredentialTypeEnum } from './enums.js';
import { invalidField, nonEmpty, optionalText } from './input.js';
import { decodeGlobalId } from '../domain/global-id.js';
import { resolveId } from '../domain/vendor-ids.js';
import { SessionNode } from './session.js';

/** Signed operations are for admin API clients and sessions; a read-only token may not start one. */
function requireSigner(ctx: Context) {
  const caller = requireCaller(ctx);
  if (caller.kind === 'apiClient' && caller.scope !== 'ADMIN') throw forbidden('This API token may only read');
  return caller;
}

/** The payload of each first step: the challenge, and nothing done yet. */
const challengePayload = {
  description: 'The challenge to sign; nothing has changed yet.',
  outputFields: (t: PothosSchemaTypes.ObjectFieldBuilder<SchemaTypes, { challenge: Challenge }>) => ({
    challenge: t.field({ type: ChallengeType, description: 'Sign its payloadToSign.', resolve: (payload) => payload.challenge }),
  }),
};

function notFound(globalId: string) {
  return codedError('NOT_FOUND', `No ${globalId.split(':')[0]} ${globalId}`);
}


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
      const caller = requireSigner(ctx);
      const id = await resolveId(ctx.prisma, input.sessionId, 'Session');
      // One direct statement (the row with its identity, as a session's authentication reads it).
      const session = await sessionById(ctx.readQuery, id);
      if (!session || (caller.kind === 'session' && caller.identityId !== session.identityId)) throw notFound(String(input.sessionId));
      if (session.status !== 'ACTIVE') throw codedError('SESSION_ALREADY_REVOKED', `Session ${input.sessionId} is already ${session.status}`);
      const challenge = await createChallenge(ctx, {
        operation: 'REVOKE_SESSION',
        identityId: session.identityId,
        targetId: session.id,
        targetType: 'Session',
        credentialType: session.type,
      });
      return { challenge };
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
      const caller = requireSigner(ctx);
      const keepGlobalId = input.keepSessionId ? String(input.keepSessionId) : undefined;
      let keepId: string;
      if (caller.kind === 'session') {
        keepId = keepGlobalId ? await resolveId(ctx.prisma, keepGlobalId, 'Session') : caller.sessionId;
        if (keepId !== caller.sessionId) throw forbidden('A session can only keep itself: omit keepSessionId or pass your own session');
      } else {
        if (!keepGlobalId) throw codedError('BAD_USER_INPUT', 'input.keepSessionId: an admin must name the session to keep', { field: 'input.keepSessionId' });
        keepId = await resolveId(ctx.prisma, keepGlobalId, 'Session');
      }
      const keep = await ctx.prisma.session.findUnique({ where: { id: keepId } });
      if (!keep) throw notFound(keepGlobalId ?? `Session:${keepId}`);
      const challenge = await createChallenge(ctx, {
        operation: 'REVOKE_OTHER_SESSIONS',
        identityId: keep.identityId,
        targetId: keep.id,
        targetType: 'Session',
        credentialType: keep.type,
      });
      return { challenge };
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
      const caller = requireSigner(ctx);
      const id = decodeGlobalId(String(input.credentialId), 'Credential').id;
      const credential = await ctx.prisma.credential.findUnique({ where: { id } });
      if (!credential || (caller.kind === 'session' && caller.identityId !== credential.identityId)) {
        throw notFound(String(input.credentialId));
      }
      if (credential.revokedAt) throw codedError('CREDENTIAL_ALREADY_REVOKED', `Credential ${input.credentialId} is already revoked`);
      const challenge = await createChallenge(ctx, {
        operation: 'REVOKE_CREDENTIAL',
        identityId: credential.identityId,
        targetId: credential.id,
        targetType: 'Credential',
        credentialType: credential.type,
      });
      return { challenge };
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
      const caller = requireSigner(ctx);
      let identityId: string;
      if (caller.kind === 'session') {
        identityId = caller.identityId;
        if (input.identityId != null && (await resolveId(ctx.prisma, input.identityId, 'Identity')) !== identityId) throw notFound(String(input.identityId));
      } else {
        if (input.identityId == null) throw invalidField('input.identityId', 'an admin must say whose credential this is');
        identityId = await resolveId(ctx.prisma, input.identityId, 'Identity');
        if (!(await ctx.prisma.identity.findUnique({ where: { id: identityId }, select: { id: true } }))) throw notFound(String(input.identityId));
      }
      if (input.identifiers.length < 1 || input.identifiers.length > 20) throw invalidField('input.identifiers', 'give 1 to 20 identifiers');
      const identifiers = input.identifiers.map((value, i) => nonEmpty(value, `input.identifiers[${i}]`, 255));
      const nickname = optionalText(input.nickname, 'input.nickname') ?? null;
      const existing = await ctx.prisma.credential.findFirst({
        where: { identityId, type: input.type, revokedAt: null, identifiers: { hasSome: identifiers } },
        select: { id: true },
      });
      if (existing) throw codedError('CREDENTIAL_EXISTS', `This account already has an active ${input.type} credential with one of these identifiers`, { field: 'input.identifiers' });
      const challenge = await createChallenge(ctx, {
        operation: 'ADD_CREDENTIAL',
        identityId,
        targetId: uuidv7(),
        targetType: 'Credential',
        credentialType: input.type,
        newCredential: { identifiers, nickname },
      });
      return { challenge };
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
      resolve: async (_root, { input }, ctx) => {
        await ctx.limiter.confirmation(requireSigner(ctx));
        return confirmChallenge(ctx, input.requestId, input.signature);
      },
    },
    { ...confirmOutput, name: name === 'confirmChallenge' ? 'ConfirmChallengePayload' : 'ConfirmRevocationPayload' },
  );
}
