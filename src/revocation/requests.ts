// Step one of each signed operation (Grid's 202 challenge): who may start it, on what, and the
// challenge it hands out; nothing changes until confirmSigned (step two). GraphQL's revokeSession /
// revokeOtherSessions / revokeCredential / addCredential / confirmChallenge and the Grid routes call these.
import { uuidv7 } from 'uuidv7';
import { forbidden, requireCaller } from '../auth/guards.js';
import { sessionById } from '../auth/session-rows.js';
import type { Context } from '../context.js';
import { decodeGlobalId } from '../domain/global-id.js';
import { invalidField, nonEmpty, optionalText } from '../domain/input.js';
import { resolveId } from '../domain/vendor-ids.js';
import { codedError } from '../errors.js';
import type { Challenge } from '../generated/prisma/client.js';
import type { ChallengeOperation, CredentialType } from '../generated/prisma/enums.js';
import { confirmChallenge, createChallenge, type ConfirmedOperation, type PayloadShape } from './service.js';

/** Signed operations are for admin API clients and sessions; a read-only token may not start one. */
export function requireSigner(ctx: Context) {
  const caller = requireCaller(ctx);
  if (caller.kind === 'apiClient' && caller.scope !== 'ADMIN') throw forbidden('This API token may only read');
  return caller;
}

function notFound(globalId: string) {
  return codedError('NOT_FOUND', `No ${globalId.split(':')[0]} ${globalId}`);
}

export async function requestSessionRevocation(ctx: Context, input: { sessionId: string | number }): Promise<Challenge> {
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
  // The target's key signs when the caller is no session (a backend's admin token): kept for its confirmation here.
  if (session.signingPublicKey && caller.kind !== 'session') {
    ctx.recentChallenges.remember(
      { id: challenge.id, requestId: challenge.requestId, identityId: challenge.identityId, targetId: challenge.targetId, payloadToSign: challenge.payloadToSign, expiresAt: challenge.expiresAt, targetKey: session.signingPublicKey },
      ctx.now(),
    );
  }
  return challenge;
}

export async function requestOtherSessionsRevocation(ctx: Context, input: { keepSessionId?: string | number | null }): Promise<Challenge> {
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
  return createChallenge(ctx, {
    operation: 'REVOKE_OTHER_SESSIONS',
    identityId: keep.identityId,
    targetId: keep.id,
    targetType: 'Session',
    credentialType: keep.type,
  });
}

export async function requestCredentialRevocation(ctx: Context, input: { credentialId: string | number }): Promise<Challenge> {
  const caller = requireSigner(ctx);
  const id = decodeGlobalId(String(input.credentialId), 'Credential').id;
  const credential = await ctx.prisma.credential.findUnique({ where: { id } });
  if (!credential || (caller.kind === 'session' && caller.identityId !== credential.identityId)) {
    throw notFound(String(input.credentialId));
  }
  if (credential.revokedAt) throw codedError('CREDENTIAL_ALREADY_REVOKED', `Credential ${input.credentialId} is already revoked`);
  return createChallenge(ctx, {
    operation: 'REVOKE_CREDENTIAL',
    identityId: credential.identityId,
    targetId: credential.id,
    targetType: 'Credential',
    credentialType: credential.type,
  });
}

export async function requestCredentialAddition(ctx: Context, input: { type: CredentialType; identifiers: string[]; nickname?: string | null; identityId?: string | number | null }): Promise<Challenge> {
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
  return createChallenge(ctx, {
    operation: 'ADD_CREDENTIAL',
    identityId,
    targetId: uuidv7(),
    targetType: 'Credential',
    credentialType: input.type,
    newCredential: { identifiers, nickname },
  });
}

/**
 * Step two, counted by the confirmation rate limit: checks the signature and performs the operation,
 * once. `expected` binds a retry to the request it repeats (Grid's signed retry names its operation
 * and target in the path): a challenge for anything else reads as no challenge at all. A confirmation
 * a planned write already settled (confirmShaped) is answered with its outcome, not done again.
 */
export async function confirmSigned(
  ctx: Context,
  requestId: string,
  signature: string,
  expected?: { operation: ChallengeOperation; targetId?: string },
): Promise<ConfirmedOperation> {
  const settled = ctx.settledConfirmation;
  if (settled && !expected && settled.requestId === requestId && settled.signature === signature) {
    ctx.settledConfirmation = undefined;
    if ('error' in settled) throw settled.error;
    return settled.confirmed;
  }
  await ctx.limiter.confirmation(requireSigner(ctx));
  if (expected) {
    const challenge = await ctx.prisma.challenge.findUnique({ where: { requestId }, select: { operation: true, targetId: true } });
    if (!challenge || challenge.operation !== expected.operation || (expected.targetId !== undefined && challenge.targetId !== expected.targetId)) {
      throw codedError('CHALLENGE_NOT_FOUND', 'No challenge with this requestId for this request');
    }
  }
  return confirmChallenge(ctx, requestId, signature);
}

/**
 * Step two for a planned write: confirmSigned's checks and work, with a signed revocation of one
 * session answering its payload as JSON (`shape`). Anything else — another operation, any error —
 * is settled on the context and undefined returned: the resolvers then answer with that outcome
 * (confirmSigned), their payload or their error, without confirming or counting a second time.
 */
export async function confirmShaped(ctx: Context, requestId: string, signature: string, shape: PayloadShape): Promise<string | undefined> {
  try {
    await ctx.limiter.confirmation(requireSigner(ctx));
    const confirmed = await confirmChallenge(ctx, requestId, signature, shape);
    if ('payload' in confirmed) return confirmed.payload;
    ctx.settledConfirmation = { requestId, signature, confirmed };
  } catch (error) {
    ctx.settledConfirmation = { requestId, signature, error };
  }
  return undefined;
}
