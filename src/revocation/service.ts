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
import { activeSql, effectiveStatus } from '../domain/session-status.js';
import { eventOrigin } from '../events/origin.js';
import { withEvents, type EventInput } from '../events/record.js';
import { eventInsertSql, writtenCountSql } from '../events/statement.js';
import { settlePendingSession } from '../auth/caller.js';
import { sessionCallerSql, sessionRow, sessionRowSql } from '../auth/session-rows.js';
import { plannedWriteMark } from '../db/database.js';
import { uuidv7 } from 'uuidv7';
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
  const cap = ctx.auth.maxOpenChallenges;
  const tooMany = (open: number) =>
    codedError('TOO_MANY_CHALLENGES', `This account has ${open} open challenges (MAX_OPEN_CHALLENGES); confirm one or wait until they expire`);
  // Two statements, no transaction and no lock. The first inserts the challenge unless the account
  // already has `cap` open ones; it cannot see a challenge that a concurrent request has not
  // committed yet, so the second counts again, this one included, and takes it back when the
  // account now has more than `cap`. The last of any set of concurrent challenges to count sees all
  // the others that stayed, so they never exceed the cap (at the cap, two may both be refused).
  const params: unknown[] = [];
  const p = (value: unknown, cast: string) => (params.push(value), `$${params.length}::${cast}`);
  const identity = p(request.identityId, 'uuid');
  const at = p(issuedAt, 'timestamptz');
  const [row] = await ctx.readQuery(
    `${plannedWriteMark} WITH ${openChallengesSql(identity, at)},
inserted AS (INSERT INTO "public"."challenges" (id, request_id, identity_id, operation, target_id, credential_type, operation_data, payload_to_sign, created_at, expires_at)
  SELECT ${p(uuidv7(), 'uuid')}, ${p(requestId, 'text')}, ${identity}, ${p(request.operation, '"ChallengeOperation"')}, ${p(request.targetId, 'uuid')},
    ${p(request.credentialType, '"CredentialType"')}, ${p(request.newCredential ? JSON.stringify(request.newCredential) : null, 'jsonb')}, ${p(payloadToSign, 'text')},
    ${at}, ${p(expiresAt, 'timestamptz')}
  FROM open WHERE open.n < ${p(cap, 'int')} RETURNING ${challengeColumns})
SELECT open.n AS "sg_open", inserted.* FROM open LEFT JOIN inserted ON true`,
    params,
  );
  const { sg_open: open, ...created } = row!;
  if (!created.id) throw tooMany(Number(open));
  const [recount] = await ctx.readQuery(
    `${plannedWriteMark} WITH ${openChallengesSql('$1::uuid', '$2::timestamptz')},
dropped AS (DELETE FROM "public"."challenges" c WHERE c.id = $3::uuid AND (SELECT n FROM open) > $4::int RETURNING c.id)
SELECT open.n AS "sg_open", EXISTS (SELECT 1 FROM dropped) AS "sg_dropped" FROM open`,
    [request.identityId, issuedAt, created.id, cap],
  );
  if (recount!.sg_dropped) throw tooMany(Number(recount!.sg_open) - 1);
  ctx.metrics.challenges.inc({ operation: request.operation, outcome: 'issued' });
  return created as unknown as Challenge;
}

/** The CTE `open`: how many open (unconsumed, unexpired) challenges the identity has at `at`. */
const openChallengesSql = (identity: string, at: string) => `open AS (SELECT count(*)::int AS n FROM "public"."challenges" c
  WHERE c.identity_id = ${identity} AND c.consumed_at IS NULL AND c.expires_at > ${at})`;

/** A challenge row's columns, named as Prisma names them. */
const challengeColumns = `id, request_id AS "requestId", identity_id AS "identityId", operation, target_id AS "targetId", credential_type AS "credentialType",
  operation_data AS "operationData", payload_to_sign AS "payloadToSign", created_at AS "createdAt", expires_at AS "expiresAt", consumed_at AS "consumedAt",
  signer_session_id AS "signerSessionId"`;

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

/** The alias of the revoked session's row (its table's columns) in a signed revocation's statement. */
export const revokedAlias = 'revoked';

/**
 * How a planned write wants a signed revocation's payload: SQL for its JSON text over the revoked
 * row (`revokedAlias`), whose parameters are in `statement`, which the revocation's statement then
 * takes its own parameters from.
 */
export interface PayloadShape {
  statement: { readonly params: unknown[]; param(value: unknown, cast: string): string };
  payloadSql: string;
}

/** A signed revocation whose payload the statement answered as JSON (PayloadShape). */
export interface ShapedConfirmation {
  operation: 'REVOKE_SESSION';
  payload: string;
  revokedCount: number;
}

const invalidSignature = () =>
  codedError('INVALID_SIGNATURE', 'The signature does not verify with the key of any active session of this account');

/** A session that may sign: its id and its public key. */
interface Candidate {
  id: string;
  signingPublicKey: Uint8Array;
}

/** The active session of the challenge's identity whose key made `signature` (among `candidates`), or an error. */
function findSigner(ctx: Context, challenge: Challenge, signature: string, candidates: Candidate[]): Candidate {
  const signer = signerAmong(ctx, challenge, signature, candidates);
  if (!signer) throw invalidSignature();
  return signer;
}

/** The candidate whose key made `signature`, tried in the order findSigner() tries them, or undefined. */
function signerAmong(ctx: Context, challenge: Pick<Challenge, 'operation' | 'targetId' | 'payloadToSign'>, signature: string, candidates: Candidate[]): Candidate | undefined {
  const presented = parseSignature(signature);
  if (!presented) return undefined;
  // Each key tried costs a verification, so the likely signers go first: the calling session (a
  // device signing another out), then a revoked session itself (a device signing itself out, as
  // one whose caller is a backend's admin token does); the rest in the order they were read.
  const callerSession = ctx.caller?.kind === 'session' ? ctx.caller.sessionId : undefined;
  const target = challenge.operation === 'REVOKE_SESSION' ? challenge.targetId : undefined;
  const rank = (id: string) => (id === callerSession ? 0 : id === target ? 1 : 2);
  candidates.sort((a, b) => rank(a.id) - rank(b.id));
  const message = Buffer.from(challenge.payloadToSign, 'base64');
  return candidates.find((session) => {
    const key = session.signingPublicKey;
    if (presented.publicKey) {
      return Buffer.from(key).equals(Buffer.from(presented.publicKey)) && verifyP256(key, message, presented.signature, 'der');
    }
    return verifyP256AnyEncoding(key, message, presented.signature);
  });
}

/**
 * A signed revocation of one session that this instance handed out (RecentChallenges), confirmed
 * without reading the challenge: when the caller is no session (so the usual way's first candidate
 * is the target itself) and the target's key made the signature. Undefined when anything is not
 * so — the statement found the challenge used, the signer revoked or its key changed, … — for the
 * usual way to confirm, or refuse with its error (that statement wrote nothing).
 */
async function confirmRecent(
  ctx: Context,
  requestId: string,
  signature: string,
  found: { operation?: ChallengeOperation },
  shape?: PayloadShape,
): Promise<ConfirmedOperation | ShapedConfirmation | undefined> {
  const recent = ctx.recentChallenges.take(requestId);
  const now = ctx.now();
  if (!recent || ctx.caller?.kind === 'session' || recent.expiresAt <= now || !mayActFor(ctx, recent.identityId)) return undefined;
  const challenge = { ...recent, operation: 'REVOKE_SESSION' as const };
  const signer = signerAmong(ctx, challenge, signature, [{ id: recent.targetId, signingPublicKey: recent.targetKey }]);
  if (!signer) return undefined;
  found.operation = challenge.operation;
  const shaped = shape?.statement.params.length;
  try {
    return await revokeSigned(ctx, challenge, signer, now, shape);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    // The usual way writes its own statement: the payload's parameters stay, this one's go.
    if (shape) shape.statement.params.length = shaped!;
    return undefined;
  }
}

/**
 * The challenge (by request id, SQL `requestId`) and the sessions that may have signed it — active
 * sessions of its identity with a key at `now`; for "sign out other devices" only the one that stays.
 */
const challengeAndCandidatesSql = (requestId: string, now: string) => `SELECT ${challengeColumns},
  array(SELECT s.id || ':' || encode(s.signing_public_key, 'hex') FROM "public"."sessions" s
    WHERE s.identity_id = c.identity_id AND s.signing_public_key IS NOT NULL AND ${activeSql('s', now)}
      AND (c.operation <> 'REVOKE_OTHER_SESSIONS' OR s.id = c.target_id)) AS "sg_candidates"
  FROM "public"."challenges" c WHERE c.request_id = ${requestId}`;
const challengeAndCandidates = `${plannedWriteMark} ${challengeAndCandidatesSql('$1', '$2::timestamptz')}`;

/**
 * Step two's read for a caller whose session token the request left pending: the token's lookup —
 * the request's authentication, as authenticate() decides — and the challenge with its possible
 * signers, in one statement. When the session authenticates it becomes the caller and confirm()
 * takes the challenge from here; otherwise the usual authentication answers (its 401, counted).
 */
export async function readConfirmation(ctx: Context, requestId: string): Promise<void> {
  const pending = ctx.pendingSession;
  // PostgreSQL text holds no NUL: such a requestId names no challenge, and the usual path says so.
  if (!pending || requestId.includes('\0')) return settlePendingSession(ctx);
  const [row] = await ctx.readQuery(
    `${plannedWriteMark} SELECT caller.session_id AS "sg_sessionId", caller.identity_id AS "sg_identityId", caller.authenticates AS "sg_authenticates", found.*
  FROM (${sessionCallerSql('$1', '$3::timestamptz')}) caller LEFT JOIN LATERAL (${challengeAndCandidatesSql('$2', '$3::timestamptz')}) found ON true`,
    [pending.tokenHash, requestId, ctx.now()],
  );
  if (!row?.sg_authenticates) return settlePendingSession(ctx);
  const { sg_sessionId: sessionId, sg_identityId: identityId, sg_authenticates: _authenticates, ...challenge } = row;
  ctx.caller = { kind: 'session', sessionId: sessionId as string, identityId: identityId as string };
  ctx.pendingSession = undefined;
  ctx.challengeRead = { requestId, row: challenge.id ? challenge : undefined };
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

async function confirm(ctx: Context, requestId: string, signature: string, found: { operation?: ChallengeOperation }, shape?: PayloadShape): Promise<ConfirmedOperation | ShapedConfirmation> {
  const recent = await confirmRecent(ctx, requestId, signature, found, shape);
  if (recent) return recent;
  // Read with the caller's authentication when the request left it pending (readConfirmation).
  const read = ctx.challengeRead?.requestId === requestId ? ctx.challengeRead : undefined;
  // PostgreSQL text holds no NUL: such a requestId names no challenge.
  const [row] = read ? (read.row ? [read.row] : []) : requestId.includes('\0') ? [] : await ctx.readQuery(challengeAndCandidates, [requestId, ctx.now()]);
  const { sg_candidates: listed, ...challengeRow } = row ?? {};
  const challenge = row ? (challengeRow as unknown as Challenge) : null;
  // Another identity's challenge reads exactly like one that does not exist.
  if (!challenge || !mayActFor(ctx, challenge.identityId)) {
    throw codedError('CHALLENGE_NOT_FOUND', 'No challenge with this requestId');
  }
  found.operation = challenge.operation;
  if (challenge.consumedAt) throw codedError('CHALLENGE_CONSUMED', 'This challenge was already used; request a new one');
  if (challenge.expiresAt <= ctx.now()) throw codedError('CHALLENGE_EXPIRED', 'This challenge has expired; request a new one');

  const candidates = (listed as string[]).map((entry) => {
    const [id, hex] = entry.split(':') as [string, string];
    return { id, signingPublicKey: Uint8Array.from(Buffer.from(hex, 'hex')) };
  });
  const signer = findSigner(ctx, challenge, signature, candidates);
  const now = ctx.now();
  if (challenge.operation === 'REVOKE_SESSION') return revokeSigned(ctx, challenge, signer, now, shape);
  const signerSession = await ctx.prisma.session.findUnique({ where: { id: signer.id } });
  if (!signerSession) throw invalidSignature();
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
    const done = await perform(tx, challenge, signerSession, now);
    events.push(...operationEvents(ctx, challenge.identityId, signerSession, done, now));
    return done;
  });
}

/**
 * A signed revocation of one session, the common case, in one statement straight to the driver:
 * it consumes the challenge, checks that the signer is still active, revokes the target and writes
 * its event — all of it only when every check passes (nothing is written otherwise), whose errors
 * come in the order the general path checks them.
 *
 * No transaction and no identity lock: the statement locks the rows it checks — the challenge, the
 * signer's session and identity (shared), the target — until it commits, and a locked row is
 * checked as it is at the lock (its latest version), not as the statement's snapshot saw it. So two
 * sessions signing each other out at the same moment conflict on their rows — one waits and then
 * finds its signer revoked, or PostgreSQL breaks the deadlock and that statement is tried again —
 * and never both succeed; the identity's shared lock also waits for a signed operation holding the
 * identity's lock (the general path) and for a change of the identity's state.
 */
async function revokeSigned(
  ctx: Context,
  challenge: Pick<Challenge, 'id' | 'identityId' | 'targetId'>,
  verified: Candidate,
  now: Date,
  shape?: PayloadShape,
): Promise<ConfirmedOperation | ShapedConfirmation> {
  const signerId = verified.id;
  const params: unknown[] = shape?.statement.params ?? [];
  const p = shape ? (value: unknown, cast: string) => shape.statement.param(value, cast) : (value: unknown, cast: string) => (params.push(value), `$${params.length}::${cast}`);
  const at = p(now, 'timestamptz');
  const signer = p(signerId, 'uuid');
  const challengeId = p(challenge.id, 'uuid');
  const target = p(challenge.targetId, 'uuid');
  const event = { type: 'SESSION_REVOKED' as const, identityId: challenge.identityId, sessionId: challenge.targetId, ...eventOrigin(ctx, signerId), occurredAt: now };
  // The revoked row: the payload's JSON when a planned write shaped it, else the row for the resolvers.
  const answer = shape ? `${revokedAlias}.id AS "id", CASE WHEN ${revokedAlias}.id IS NOT NULL THEN ${shape.payloadSql} END AS "sg_payload"` : sessionRowSql(revokedAlias);
  const statement = `${plannedWriteMark} WITH unconsumed AS (SELECT c.consumed_at IS NULL AS open FROM "public"."challenges" c WHERE c.id = ${challengeId} FOR NO KEY UPDATE),
signer AS (SELECT s.id FROM "public"."sessions" s JOIN "public"."identities" i ON i.id = s.identity_id
  WHERE s.id = ${signer} AND s.identity_id = ${p(challenge.identityId, 'uuid')} AND s.signing_public_key = ${p(Buffer.from(verified.signingPublicKey), 'bytea')}
    AND i.state = 'ACTIVE' AND ${activeSql('s', at)} FOR SHARE OF s, i),
target AS (SELECT s.id FROM "public"."sessions" s WHERE s.id = ${target} AND s.status = 'ACTIVE' FOR NO KEY UPDATE),
consumed AS (UPDATE "public"."challenges" c SET consumed_at = ${at}, signer_session_id = ${signer}
  WHERE c.id = ${challengeId} AND c.consumed_at IS NULL AND (SELECT open FROM unconsumed) AND EXISTS (SELECT 1 FROM signer) AND EXISTS (SELECT 1 FROM target)
  RETURNING c.id),
${revokedAlias} AS (UPDATE "public"."sessions" s SET status = 'REVOKED', revoked_at = ${at}, revoked_by_session_id = ${signer}, updated_at = ${p(new Date(), 'timestamptz')}
  WHERE s.id = ${target} AND s.status = 'ACTIVE' AND EXISTS (SELECT 1 FROM consumed)
  RETURNING s.*),
written AS (${eventInsertSql(event, p, { from: revokedAlias })})
SELECT COALESCE((SELECT open FROM unconsumed), false) AS "sg_open", EXISTS (SELECT 1 FROM signer) AS "sg_signer", ${writtenCountSql('written')} AS "sg_events", ${answer}
  FROM (SELECT 1) one LEFT JOIN ${revokedAlias} ON true`;
  let row: Record<string, unknown> | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      [row] = await ctx.readQuery(statement, params);
      break;
    } catch (error) {
      // A deadlock with another signed operation: that one went ahead; tried again, this one sees what it did.
      if (attempt < 3 && (error as { code?: string }).code === '40P01') continue;
      throw error;
    }
  }
  const { sg_open: open, sg_signer: signerActive, sg_events: events, sg_payload: payload, ...session } = row!;
  if (!open) throw codedError('CHALLENGE_CONSUMED', 'This challenge was already used; request a new one');
  // The signer may have been revoked (or its identity deactivated) since its signature was checked.
  if (!signerActive) throw invalidSignature();
  if (!session.id) throw codedError('SESSION_ALREADY_REVOKED', `Session ${encodeGlobalId('Session', challenge.targetId)} is no longer active`);
  if (Number(events) > 0) ctx.events.committed();
  if (shape) return { operation: 'REVOKE_SESSION', payload: String(payload), revokedCount: 1 };
  const revokedSession = sessionRow(session);
  return { operation: 'REVOKE_SESSION', session: revokedSession, revokedSessions: [revokedSession], credential: null };
}

/** Step two: checks the signature and performs the operation; counted in the metrics either way. */
export async function confirmChallenge(ctx: Context, requestId: string, signature: string): Promise<ConfirmedOperation>;
/** The same, with a signed revocation of one session answering its payload's JSON as `shape` says (a planned write). */
export async function confirmChallenge(ctx: Context, requestId: string, signature: string, shape: PayloadShape): Promise<ConfirmedOperation | ShapedConfirmation>;
export async function confirmChallenge(ctx: Context, requestId: string, signature: string, shape?: PayloadShape): Promise<ConfirmedOperation | ShapedConfirmation> {
  const found: { operation?: ChallengeOperation } = {};
  try {
    const confirmed = await confirm(ctx, requestId, signature, found, shape);
    ctx.metrics.challenges.inc({ operation: confirmed.operation, outcome: 'confirmed' });
    const revokedCount = 'payload' in confirmed ? confirmed.revokedCount : confirmed.revokedSessions.length;
    if (revokedCount > 0) {
      ctx.metrics.revocations.inc({ kind: confirmed.operation === 'REVOKE_OTHER_SESSIONS' ? 'signed_other_sessions' : 'signed' }, revokedCount);
    }
    return confirmed;
  } catch (error) {
    const code = error instanceof GraphQLError ? String(error.extensions.code ?? 'UNKNOWN') : 'INTERNAL_SERVER_ERROR';
    ctx.metrics.challenges.inc({ operation: found.operation ?? 'UNKNOWN', outcome: code });
    throw error;
  }
}
