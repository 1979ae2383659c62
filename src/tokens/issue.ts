// Minting and checking session tokens for a caller: who may mint for which session, the event a
// mint writes, Kratos' tokenize_as (the token is kept as the session's `tokenized`), and Clerk's
// verify. GraphQL's createSessionToken / Viewer.sessionToken / verifySessionToken and the vendor
// routes all come here.
import { requireCaller, visibleIdentity } from '../auth/guards.js';
import { sha256 } from '../auth/secrets.js';
import { sessionById, type SessionWithIdentity } from '../auth/session-rows.js';
import type { Context } from '../context.js';
import { invalidField, nonEmpty } from '../domain/input.js';
import { effectiveStatus } from '../domain/session-status.js';
import { codedError } from '../errors.js';
import { eventOrigin } from '../events/origin.js';
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

/** Mints a token for a session the caller may mint for: its own (a session), any (an admin). */
export async function issueSessionToken(ctx: Context, sessionId: string, options: IssueOptions = {}): Promise<IssuedToken> {
  const tokens = tokensOf(ctx);
  const caller = requireCaller(ctx);
  if (caller.kind === 'apiClient' && caller.scope !== 'ADMIN') throw codedError('FORBIDDEN', 'Minting session tokens needs an admin API token or the session itself');
  const fields = options.fields ?? inputFields;
  const found = await sessionWithIdentity(ctx, sessionId);
  const visible = visibleIdentity(ctx);
  // Another identity's session reads exactly like one that does not exist.
  if (!found || (visible !== null && (found.identityId !== visible || caller.kind !== 'session' || caller.sessionId !== sessionId))) {
    throw codedError('NOT_FOUND', 'No session with this id', { field: 'input.sessionId' });
  }
  const now = ctx.now();
  if (found.identity.state !== 'ACTIVE' || effectiveStatus(found, now) !== 'ACTIVE') {
    throw codedError('SESSION_NOT_ACTIVE', `Only an active session gets a token; this one is ${effectiveStatus(found, now)}`);
  }
  let template: JwtTemplate | null = null;
  if (options.template != null) {
    template = await tokens.template(options.template);
    if (!template) throw codedError('NOT_FOUND', `No JWT template named ${JSON.stringify(options.template)}`, { field: fields.template });
  }
  const azp = options.authorizedParty == null ? undefined : nonEmpty(options.authorizedParty, fields.authorizedParty, 2048);
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
  await ctx.eventThrottle.record(
    ctx.readQuery,
    {
      type: 'SESSION_TOKEN_ISSUED',
      identityId: identity.id,
      sessionId: session.id,
      ...eventOrigin(ctx),
      details: { template: issued.template, expiresAt: issued.expiresAt.toISOString() },
      occurredAt: now,
    },
    ctx.events,
  );
  return issued;
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
