// Minting and checking session tokens for a caller: who may mint for which session, the event a
// mint writes, Kratos' tokenize_as (the token is kept as the session's `tokenized`), and Clerk's
// verify. GraphQL's createSessionToken / Viewer.sessionToken / verifySessionToken and the vendor
// routes all come here.
import { settlePendingSession } from '../auth/caller.js';
import { requireCaller, visibleIdentity } from '../auth/guards.js';
import { sha256 } from '../auth/secrets.js';
import { sessionById, sessionLookupSql, shapeSessionWithIdentity, type SessionWithIdentity } from '../auth/session-rows.js';
import type { Context } from '../context.js';
import { plannedWriteMark } from '../db/database.js';
import { invalidField, nonEmpty } from '../domain/input.js';
import { effectiveStatus } from '../domain/session-status.js';
import { codedError } from '../errors.js';
import { eventOrigin } from '../events/origin.js';
import type { EventInput, EventOrigin } from '../events/record.js';
import type { JwtTemplate } from '../generated/prisma/client.js';
import { ClaimsTooLarge, TokenRefusal, looksLikeJwt, type IssuedToken, type SessionTokens } from './session-tokens.js';

export function tokensOf(ctx: Context): SessionTokens {
  if (!ctx.tokens) {
    throw codedError('TOKENS_NOT_CONFIGURED', 'Session tokens are off on this server: give every instance the same TOKEN_KEY_SECRET');
  }
  return ctx.tokens;
}

export interface IssueOptions {
  template?: string | null;
  authorizedParty?: string | null;
  /** Kratos' tokenize_as: keep the token as the session's `tokenized`. */
  tokenize?: boolean;
  /** What errors name the template and authorizedParty as: the mutation's input fields by default. */
  fields?: ArgumentFields;
}

/** Where the template and authorizedParty came from, for errors. */
export interface ArgumentFields {
  template: string;
  authorizedParty: string;
}
const inputFields: ArgumentFields = { template: 'input.template', authorizedParty: 'input.authorizedParty' };
/** A field's own arguments (`Viewer.sessionToken(template:)`). */
export const argumentFields: ArgumentFields = { template: 'template', authorizedParty: 'authorizedParty' };

/**
 * The session and its identity, as the request's authentication read them (an opaque token's
 * lookup primes the loaders with both), or by one direct statement.
 */
async function sessionWithIdentity(ctx: Context, sessionId: string): Promise<SessionWithIdentity | null> {
  const caller = ctx.caller;
  if (caller?.kind === 'session' && caller.sessionId === sessionId && caller.credentialExpiresAt === undefined) {
    const [session, identity] = await Promise.all([ctx.loaders.session.load(sessionId), ctx.loaders.identity.load(caller.identityId)]);
    return session && identity ? { ...session, identity } : null;
  }
  return sessionById(ctx.readQuery, sessionId);
}

type TokenIssuedEvent = Omit<EventInput, 'identityId'> & { sessionId: string };

/**
 * The session a mint is for, with its identity, read by the statement that also writes the mint's
 * throttled event when the mint may go ahead (the session authenticates, as authenticate() decides,
 * and is the one asked for) and the event is due: by the caller's token hash — then this statement
 * is the request's authentication — or by id (an admin). A mint this instance knows to be throttled
 * sends the lookup alone.
 */
async function readAndRecord(ctx: Context, tokens: SessionTokens, by: { tokenHash: Buffer } | { id: string }, event: TokenIssuedEvent): Promise<{ found: SessionWithIdentity | null; authenticates: boolean }> {
  const params: unknown[] = [];
  const p = (value: unknown, cast: string) => (params.push(value), `$${params.length}::${cast}`);
  const now = p(event.occurredAt, 'timestamptz');
  const lookup = 'tokenHash' in by ? sessionLookupSql('tokenHash', p(by.tokenHash, 'bytea'), now) : sessionLookupSql('id', p(by.id, 'uuid'), now);
  const throttle = ctx.eventThrottle;
  const due = !throttle.surelyThrottled(event.type, event.sessionId, event.occurredAt);
  let statement = lookup;
  if (due) {
    const { ctes, values } = throttle.insertSql(event, p, {
      from: 'found',
      identityIdSql: 'f."i.id"',
      // The token's expiry is cut at the session's end, which only this statement reads.
      detailsSql: `jsonb_build_object('template', NULL, 'expiresAt', ${tokens.expiresAtSql(event.occurredAt, p, 'f."s.expiresAt"', 'f."s.abandonAt"')})`,
      condition: `f."sg_authenticates" AND f."s.id" = ${p(event.sessionId, 'uuid')}`,
    });
    statement = `${plannedWriteMark} WITH found AS (${lookup}), ${ctes} SELECT found.*, ${values} FROM found`;
  }
  const [row] = await ctx.readQuery(statement, params);
  if (due) throttle.settle(event, row, ctx.events);
  return { found: shapeSessionWithIdentity(row), authenticates: row?.sg_authenticates === true };
}

/**
 * Mints a token for a session the caller may mint for: its own (a session), any (an admin). A
 * session token whose lookup the request left pending (a planned write) is checked here, by the
 * statement that reads the session.
 */
export async function issueSessionToken(ctx: Context, sessionId: string, options: IssueOptions = {}): Promise<IssuedToken> {
  const tokens = tokensOf(ctx);
  const pending = ctx.caller ? undefined : ctx.pendingSession;
  const asked = pending ? undefined : requireCaller(ctx);
  if (asked?.kind === 'apiClient' && asked.scope !== 'ADMIN') throw codedError('FORBIDDEN', 'Minting session tokens needs an admin API token or the session itself');
  const fields = options.fields ?? inputFields;
  const now = ctx.now();
  let azp: string | undefined;
  let azpProblem: unknown;
  try {
    azp = options.authorizedParty == null ? undefined : nonEmpty(options.authorizedParty, fields.authorizedParty, 2048);
  } catch (error) {
    azpProblem = error;
  }
  let found: SessionWithIdentity | null;
  let recorded = false;
  // The session's read writes the event in the same statement only when nothing can refuse the mint
  // after it: no template (its claims filled for this session might not fit), a valid azp, the
  // signing key at hand. Otherwise the event is written once the token is made.
  if ((pending || asked?.kind === 'apiClient') && options.template == null && !options.tokenize && azpProblem === undefined) {
    await tokens.readyToIssue(null);
    // A pending session mints only for itself: it is the event's actor.
    // Its details (the token's expiry) are written by the statement: detailsSql.
    const event = tokenIssuedEvent(null, now, sessionId, eventOrigin(ctx, pending ? sessionId : undefined));
    const read = await readAndRecord(ctx, tokens, pending ? { tokenHash: pending.tokenHash } : { id: sessionId }, event);
    recorded = read.authenticates || !pending;
    found = read.found;
    if (pending && read.found && read.authenticates) {
      const { identity, ...session } = read.found;
      ctx.loaders.session.prime(session.id, session);
      ctx.loaders.identity.prime(identity.id, identity);
      ctx.caller = { kind: 'session', sessionId: session.id, identityId: session.identityId };
      ctx.pendingSession = undefined;
    } else if (pending) {
      // It does not authenticate: the usual authentication answers (its 401, counted), or finds the
      // session changed meanwhile and the mint goes the usual way.
      await settlePendingSession(ctx);
      found = await sessionWithIdentity(ctx, sessionId);
    }
  } else {
    if (pending) await settlePendingSession(ctx);
    found = await sessionWithIdentity(ctx, sessionId);
  }
  const caller = requireCaller(ctx);
  const visible = visibleIdentity(ctx);
  // Another identity's session reads exactly like one that does not exist.
  if (!found || (visible !== null && (found.identityId !== visible || caller.kind !== 'session' || caller.sessionId !== sessionId))) {
    throw codedError('NOT_FOUND', 'No session with this id', { field: 'input.sessionId' });
  }
  if (found.identity.state !== 'ACTIVE' || effectiveStatus(found, now) !== 'ACTIVE') {
    throw codedError('SESSION_NOT_ACTIVE', `Only an active session gets a token; this one is ${effectiveStatus(found, now)}`);
  }
  let template: JwtTemplate | null = null;
  if (options.template != null) {
    template = await tokens.template(options.template);
    if (!template) throw codedError('NOT_FOUND', `No JWT template named ${JSON.stringify(options.template)}`, { field: fields.template });
  }
  if (azpProblem !== undefined) throw azpProblem;
  const { identity, ...session } = found;
  const issued = await tokens.issue({ session, identity, template, authorizedParty: azp, now }).catch((error: unknown) => {
    if (error instanceof ClaimsTooLarge) throw invalidField(fields.template, error.message);
    throw error;
  });
  if (options.tokenize) {
    // Not a change to the session (updated_at stays): what Kratos' `tokenized` shows until the next one.
    await ctx.prisma.$executeRaw`UPDATE "public"."sessions" SET tokenized = ${issued.jwt} WHERE id = ${session.id}::uuid`;
    ctx.loaders.session.clear(session.id).prime(session.id, { ...session, tokenized: issued.jwt });
  }
  // Recorded at most once per session per EVENT_ACTIVITY_INTERVAL_SECONDS (frontends mint every
  // minute): one statement that writes it only when due, none when this instance knows it is not.
  if (!recorded) await ctx.eventThrottle.record(ctx.readQuery, { ...tokenIssuedEvent(template, now, session.id, eventOrigin(ctx), issued.expiresAt), identityId: identity.id }, ctx.events);
  return issued;
}

/** The SESSION_TOKEN_ISSUED event of a mint (its identity comes from the session). */
function tokenIssuedEvent(template: JwtTemplate | null, now: Date, sessionId: string, origin: EventOrigin, expiresAt?: Date): TokenIssuedEvent {
  return {
    type: 'SESSION_TOKEN_ISSUED',
    sessionId,
    ...origin,
    details: { template: template?.name ?? null, expiresAt: expiresAt?.toISOString() ?? null },
    occurredAt: now,
  };
}

/**
 * Checks a presented token — a JWT from this server or an opaque session token — for a backend
 * (API tokens only): its session if it is valid now, or an error coded TOKEN_INVALID,
 * TOKEN_EXPIRED, TOKEN_NOT_YET_VALID or SESSION_NOT_ACTIVE.
 */
export async function verifyPresentedToken(ctx: Context, token: string): Promise<{ sessionId: string; expiresAt: Date | null }> {
  const caller = requireCaller(ctx);
  if (caller.kind !== 'apiClient') throw codedError('FORBIDDEN', 'Verifying tokens is for API tokens (backends)');
  const now = ctx.now();
  let sessionId: string;
  let expiresAt: Date | null = null;
  if (looksLikeJwt(token)) {
    try {
      const verified = await tokensOf(ctx).verify(token, now);
      sessionId = verified.sessionId;
      expiresAt = new Date((verified.claims.exp ?? 0) * 1000);
    } catch (error) {
      if (error instanceof TokenRefusal) throw codedError(error.code, error.message);
      throw error;
    }
  } else {
    const found = await ctx.prisma.session.findUnique({ where: { tokenHash: Uint8Array.from(sha256(token)) }, select: { id: true } });
    if (!found) throw codedError('TOKEN_INVALID', 'No session has this token');
    sessionId = found.id;
  }
  const session = await ctx.prisma.session.findUnique({ where: { id: sessionId }, include: { identity: { select: { state: true } } } });
  if (!session || session.identity.state !== 'ACTIVE' || effectiveStatus(session, now) !== 'ACTIVE') {
    throw codedError('SESSION_NOT_ACTIVE', 'The token\'s session is no longer active');
  }
  return { sessionId, expiresAt: expiresAt ?? session.expiresAt };
}
