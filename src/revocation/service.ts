// Two-step signed operations (Grid's 202 challenge flow): step one writes a challenge and nothing
// else; step two checks a signature over that challenge, made by an active session of the same
// identity, and then consumes the challenge and performs the operation in one transaction.
import { randomBytes } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Context } from '../context.js';
import { mayActFor } from '../auth/guards.js';
import { verifyP256, verifyP256AnyEncoding } from '../crypto/signature.js';
import { codedError } from '../errors.js';
import type { Challenge, Credential, Prisma, PrismaClient, Session } from '../generated/prisma/client.js';
import type { ChallengeOperation, CredentialType } from '../generated/prisma/enums.js';
import { encodeGlobalId } from '../domain/global-id.js';
import { effectiveStatus, effectiveStatusWhere } from '../domain/session-status.js';
import { eventOrigin } from '../events/origin.js';
import { withEvents, type EventInput } from '../events/record.js';
import { challengePayload } from './payload.js';
import { parseSignature } from './signature-input.js';

export interface ChallengeRequest {
  operation: ChallengeOperation;
  identityId: string;
  targetId: string;
  targetType: 'Session' | 'Credential';
  credentialType: CredentialType | null;
  /** ADD_CREDENTIAL: the credential's identifiers and nickname. */
  newCredential?: { identifiers: string[]; nickname: string | null };
}

export async function createChallenge(ctx: Context, request: ChallengeRequest): Promise<Challenge> {
  const issuedAt = ctx.now();
  const expiresAt = new Date(issuedAt.getTime() + ctx.auth.challengeTtlMs);
  const requestId = randomBytes(24).toString('base64url'); // 192 random bits
  const payloadToSign = challengePayload({
    operation: request.operation,
    identityId: encodeGlobalId('Identity', request.identityId),
    targetId: encodeGlobalId(request.targetType, request.targetId),
    requestId,
    issuedAt,
    expiresAt,
    audience: ctx.auth.audience,
    credential: request.newCredential && { type: request.credentialType!, ...request.newCredential },
  });
  return ctx.prisma.$transaction(async (tx) => {
    // Counted under the identity's lock, so concurrent requests cannot overshoot the cap together.
    await lockIdentity(tx, request.identityId);
    const open = await tx.challenge.count({ where: { identityId: request.identityId, consumedAt: null, expiresAt: { gt: issuedAt } } });
    if (open >= ctx.auth.maxOpenChallenges) {
      throw codedError(
        'TOO_MANY_CHALLENGES',
        `This account has ${open} open challenges (MAX_OPEN_CHALLENGES); confirm one or wait until they expire`,
      );
    }
    const created = await tx.challenge.create({
      data: {
        requestId,
        identityId: request.identityId,
        operation: request.operation,
        targetId: request.targetId,
        credentialType: request.credentialType,
        operationData: request.newCredential,
        payloadToSign,
        createdAt: issuedAt,
        expiresAt,
      },
    });
    ctx.metrics.challenges.inc({ operation: request.operation, outcome: 'issued' });
    return created;
  });
}

/** Serializes signed operations of one identity until the transaction ends (see confirmChallenge). */
async function lockIdentity(tx: Prisma.TransactionClient, identityId: string): Promise<void> {
  // NO KEY UPDATE: serializes these operations, yet lets event inserts check their foreign key.
  await tx.$executeRaw`SELECT 1 FROM identities WHERE id = ${identityId}::uuid FOR NO KEY UPDATE`;
}

/**
 * Deletes challenges that were used or expired more than `retentionMs` ago, at most `batch` at a
 * time (the server calls this now and then); returns how many went.
 */
export async function purgeChallenges(prisma: PrismaClient, now: Date, retentionMs: number, batch = 1000): Promise<number> {
  const before = new Date(now.getTime() - retentionMs);
  return prisma.$executeRaw`
    DELETE FROM challenges WHERE id IN (
      SELECT id FROM challenges WHERE expires_at < ${before} OR consumed_at < ${before} LIMIT ${batch})`;
}

export interface ConfirmedOperation {
  operation: ChallengeOperation;
  /** REVOKE_SESSION: the revoked session; otherwise the session that signed (and stays). */
  session: Session;
  revokedSessions: Session[];
  credential: Credential | null;
}

const invalidSignature = () =>
  codedError('INVALID_SIGNATURE', 'The signature does not verify with the key of any active session of this account');

/** The active session of the challenge's identity whose key made `signature`, or an error. */
async function findSigner(ctx: Context, challenge: Challenge, signature: string): Promise<Session> {
  const presented = parseSignature(signature);
  if (!presented) throw invalidSignature();
  const now = ctx.now();
  const candidates = await ctx.prisma.session.findMany({
    where: {
      identityId: challenge.identityId,
      signingPublicKey: { not: null },
      ...effectiveStatusWhere('ACTIVE', now, ctx.prisma.session.fields),
      // "Sign out other devices" must be signed by the session that stays.
      ...(challenge.operation === 'REVOKE_OTHER_SESSIONS' ? { id: challenge.targetId } : {}),
    },
  });
  // The calling session's own key first: it is almost always the signer.
  const callerSession = ctx.caller?.kind === 'session' ? ctx.caller.sessionId : undefined;
  candidates.sort((a, b) => Number(b.id === callerSession) - Number(a.id === callerSession));
  const message = Buffer.from(challenge.payloadToSign, 'base64');
  const signer = candidates.find((session) => {
    const key = session.signingPublicKey!;
    if (presented.publicKey) {
      return Buffer.from(key).equals(Buffer.from(presented.publicKey)) && verifyP256(key, message, presented.signature, 'der');
    }
    return verifyP256AnyEncoding(key, message, presented.signature);
  });
  if (!signer) throw invalidSignature();
  return signer;
}

/** The events a confirmed operation writes (in its transaction). */
function operationEvents(ctx: Context, identityId: string, signer: Session, done: ConfirmedOperation, now: Date): EventInput[] {
  const origin = { ...eventOrigin(ctx, signer.id), occurredAt: now, identityId };
  switch (done.operation) {
    case 'REVOKE_SESSION':
    case 'REVOKE_OTHER_SESSIONS': {
      const revoked: EventInput[] = done.revokedSessions.map((session) => ({ ...origin, type: 'SESSION_REVOKED', sessionId: session.id }));
      if (done.operation === 'REVOKE_SESSION') return revoked;
      return [
        ...revoked,
        {
          ...origin,
          type: 'OTHER_SESSIONS_REVOKED',
          sessionId: done.session.id,
          details: { revokedCount: done.revokedSessions.length, revokedSessionIds: done.revokedSessions.map((s) => encodeGlobalId('Session', s.id)) },
        },
      ];
    }
    case 'REVOKE_CREDENTIAL':
      return [{ ...origin, type: 'CREDENTIAL_REVOKED', credentialId: done.credential!.id, details: { type: done.credential!.type } }];
    case 'ADD_CREDENTIAL':
      return [{ ...origin, type: 'CREDENTIAL_ADDED', credentialId: done.credential!.id, details: { type: done.credential!.type } }];
    default:
      return [];
  }
}

async function perform(
  tx: Prisma.TransactionClient,
  challenge: Challenge,
  signer: Session,
  now: Date,
): Promise<ConfirmedOperation> {
  const revoked = { status: 'REVOKED' as const, revokedAt: now, revokedBySessionId: signer.id };
  switch (challenge.operation) {
    case 'REVOKE_SESSION': {
      const { count } = await tx.session.updateMany({ where: { id: challenge.targetId, status: 'ACTIVE' }, data: revoked });
      if (count === 0) throw codedError('SESSION_ALREADY_REVOKED', `Session ${encodeGlobalId('Session', challenge.targetId)} is no longer active`);
      const session = await tx.session.findUniqueOrThrow({ where: { id: challenge.targetId } });
      return { operation: challenge.operation, session, revokedSessions: [session], credential: null };
    }
    case 'REVOKE_OTHER_SESSIONS': {
      const others = { identityId: challenge.identityId, id: { not: challenge.targetId }, status: 'ACTIVE' as const };
      const ids = (await tx.session.findMany({ where: others, select: { id: true } })).map((s) => s.id);
      await tx.session.updateMany({ where: { ...others, id: { in: ids } }, data: revoked });
      const revokedSessions = await tx.session.findMany({ where: { id: { in: ids } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
      return { operation: challenge.operation, session: signer, revokedSessions, credential: null };
    }
    case 'REVOKE_CREDENTIAL': {
      const { count } = await tx.credential.updateMany({ where: { id: challenge.targetId, revokedAt: null }, data: { revokedAt: now } });
      if (count === 0) throw codedError('CREDENTIAL_ALREADY_REVOKED', `Credential ${encodeGlobalId('Credential', challenge.targetId)} is already revoked`);
      const credential = await tx.credential.findUniqueOrThrow({ where: { id: challenge.targetId } });
      return { operation: challenge.operation, session: signer, revokedSessions: [], credential };
    }
    case 'ADD_CREDENTIAL': {
      const { identifiers, nickname } = challenge.operationData as { identifiers: string[]; nickname: string | null };
      const credential = await tx.credential.create({
        data: { id: challenge.targetId, identityId: challenge.identityId, type: challenge.credentialType!, identifiers, nickname },
      });
      return { operation: challenge.operation, session: signer, revokedSessions: [], credential };
    }
    default:
      throw codedError('CHALLENGE_NOT_FOUND', `This challenge (${challenge.operation}) is not confirmed here`);
  }
}

async function confirm(ctx: Context, requestId: string, signature: string, found: { operation?: ChallengeOperation }): Promise<ConfirmedOperation> {
  const challenge = await ctx.prisma.challenge.findUnique({ where: { requestId } });
  // Another identity's challenge reads exactly like one that does not exist.
  if (!challenge || !mayActFor(ctx, challenge.identityId)) {
    throw codedError('CHALLENGE_NOT_FOUND', 'No challenge with this requestId');
  }
  found.operation = challenge.operation;
  if (challenge.consumedAt) throw codedError('CHALLENGE_CONSUMED', 'This challenge was already used; request a new one');
  if (challenge.expiresAt <= ctx.now()) throw codedError('CHALLENGE_EXPIRED', 'This challenge has expired; request a new one');

  const signer = await findSigner(ctx, challenge, signature);
  const now = ctx.now();
  return withEvents(ctx.prisma, ctx.events, async (tx, events) => {
    // One signed operation per identity at a time: two sessions signing each other out at the same
    // moment would each see the other still active and both succeed, leaving the account with no
    // session. Holding the identity's row until commit makes the second wait and then see the first.
    await lockIdentity(tx, challenge.identityId);
    // Compare-and-set: of any number of concurrent confirmations, one consumes the challenge.
    const { count } = await tx.challenge.updateMany({
      where: { id: challenge.id, consumedAt: null },
      data: { consumedAt: now, signerSessionId: signer.id },
    });
    if (count === 0) throw codedError('CHALLENGE_CONSUMED', 'This challenge was already used; request a new one');
    // The signer may have been revoked (or its identity deactivated) since we checked its signature.
    const stillActive = await tx.session.findUnique({ where: { id: signer.id }, include: { identity: { select: { state: true } } } });
    if (!stillActive || stillActive.identity.state !== 'ACTIVE' || effectiveStatus(stillActive, now) !== 'ACTIVE') throw invalidSignature();
    const done = await perform(tx, challenge, signer, now);
    events.push(...operationEvents(ctx, challenge.identityId, signer, done, now));
    return done;
  });
}

/** Step two: checks the signature and performs the operation; counted in the metrics either way. */
export async function confirmChallenge(ctx: Context, requestId: string, signature: string): Promise<ConfirmedOperation> {
  const found: { operation?: ChallengeOperation } = {};
  try {
    const confirmed = await confirm(ctx, requestId, signature, found);
    ctx.metrics.challenges.inc({ operation: confirmed.operation, outcome: 'confirmed' });
    if (confirmed.revokedSessions.length > 0) {
      ctx.metrics.revocations.inc({ kind: confirmed.operation === 'REVOKE_OTHER_SESSIONS' ? 'signed_other_sessions' : 'signed' }, confirmed.revokedSessions.length);
    }
    return confirmed;
  } catch (error) {
    const code = error instanceof GraphQLError ? String(error.extensions.code ?? 'UNKNOWN') : 'INTERNAL_SERVER_ERROR';
    ctx.metrics.challenges.inc({ operation: found.operation ?? 'UNKNOWN', outcome: code });
    throw error;
  }
}
