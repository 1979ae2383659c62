// Who is calling: an API client (Basic `<id>:<secret>`, server to server) or a session (Bearer
// `<session token>`, a frontend). No Authorization header is an anonymous caller, who can only see
// the schema; a header that does not authenticate is refused outright (401).
import { GraphQLError } from 'graphql';
import type { Database } from '../db/database.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { ApiClientScope } from '../generated/prisma/enums.js';
import type { Loaders } from '../loaders.js';
import { effectiveStatus } from '../domain/session-status.js';
import { looksLikeJwt, TokenRefusal, type SessionTokens } from '../tokens/session-tokens.js';
import { parseApiSecretKey, secretMatches, sha256 } from './secrets.js';
import { sessionById, sessionByTokenHash, type SessionWithIdentity } from './session-rows.js';

export type Caller =
  | { kind: 'apiClient'; clientId: string; scope: ApiClientScope }
  | {
      kind: 'session';
      sessionId: string;
      identityId: string;
      /** A session token (JWT) stops working at its expiry: what it started (a subscription) ends then. */
      credentialExpiresAt?: Date;
    };

export const adminClientId = 'admin';

// Refusals of a credential this server issued and that has since ended: a JWT whose signature
// verifies (expired, or its session ended), the token of an ended session, the secret of a revoked
// API token. Nobody guesses one, so they do not count toward the failed-authentication limits: a
// signed-out device that keeps asking is told 401 each time, not 429 after ten tries.
const endedCredentialRefusals = new WeakSet<GraphQLError>();

function endedCredential(message: string, reason?: TokenRefusal['code']): GraphQLError {
  const error = unauthenticated(message, reason);
  endedCredentialRefusals.add(error);
  return error;
}

/** Whether a 401 refused a credential that could be a guess (and so counts toward the rate limits). */
export function countsAsFailedAuthentication(error: GraphQLError): boolean {
  return error.extensions.code === 'UNAUTHENTICATED' && !endedCredentialRefusals.has(error);
}

/**
 * A 401. A refused session token (JWT or opaque) also says why, as verifySessionToken would
 * (`extensions.reason`): a client mints a new JWT for TOKEN_EXPIRED, and signs in again for
 * SESSION_NOT_ACTIVE.
 */
export function unauthenticated(message: string, reason?: TokenRefusal['code']): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      ...(reason ? { reason } : {}),
      http: { status: 401, headers: { 'www-authenticate': 'Basic realm="sessiongraph", Bearer realm="sessiongraph"' } },
    },
  });
}

export interface AuthenticateOptions {
  prisma: PrismaClient;
  /** The database's direct reads: the session lookup runs as a prepared statement when given. */
  read?: Database['read'];
  /** The request's loaders: a session caller's session and identity are put there for later fields. */
  loaders?: Loaders;
  /** ADMIN_TOKEN, when configured: the admin client's secret, never stored. */
  adminToken?: string;
  /** Session tokens (JWTs), when configured: a Bearer JWT is checked against their keys. */
  tokens?: SessionTokens;
  now: Date;
}

// API clients' last use is recorded at most this often, not on every request.
const lastUsedResolutionMs = 60_000;
const lastUsedWritten = new Map<string, number>();

// ADMIN_TOKEN's digest, made once per value instead of on every request.
let adminDigest: { token: string; digest: Buffer } | undefined;
function adminTokenDigest(token: string): Buffer {
  if (adminDigest?.token !== token) adminDigest = { token, digest: sha256(token) };
  return adminDigest.digest;
}

type ApiClientRow = { secretHash: string; scope: ApiClientScope; revokedAt: Date | null };
const apiClientById = 'SELECT secret_hash AS "secretHash", scope, revoked_at AS "revokedAt" FROM "public"."api_clients" WHERE id = $1';

/** An API token by id, straight to the driver when it can: every request of a backend asks. */
async function findApiClient(options: AuthenticateOptions, id: string): Promise<ApiClientRow | null> {
  // PostgreSQL text holds no NUL: such an id names no token.
  if (id.includes('\0')) return null;
  if (options.read) return ((await options.read(apiClientById, [id]))[0] as ApiClientRow | undefined) ?? null;
  return options.prisma.apiClient.findUnique({ where: { id }, select: { secretHash: true, scope: true, revokedAt: true } });
}

async function apiClient(id: string, secret: string, options: AuthenticateOptions): Promise<Caller> {
  const { prisma, adminToken, now } = options;
  if (id === adminClientId && adminToken !== undefined) {
    if (secretMatches(secret, adminTokenDigest(adminToken))) return { kind: 'apiClient', clientId: id, scope: 'ADMIN' };
    throw unauthenticated('Invalid API client credentials');
  }
  const client = await findApiClient(options, id);
  // Compare even when the client is unknown, so timing does not reveal which ids exist.
  const matches = secretMatches(secret, client?.secretHash ?? '0'.repeat(64));
  if (!client || !matches) throw unauthenticated('Invalid API client credentials');
  if (client.revokedAt) throw endedCredential('Invalid API client credentials');
  const last = lastUsedWritten.get(id) ?? 0;
  if (now.getTime() - last > lastUsedResolutionMs) {
    lastUsedWritten.set(id, now.getTime());
    await prisma.apiClient.update({ where: { id }, data: { lastUsedAt: now } });
  }
  return { kind: 'apiClient', clientId: id, scope: client.scope };
}

/** The session with its identity, by token hash or id: straight to the driver when it can. */
function findSession(options: AuthenticateOptions, by: { tokenHash: Uint8Array<ArrayBuffer> } | { id: string }): Promise<SessionWithIdentity | null> {
  if (options.read) return 'id' in by ? sessionById(options.read, by.id) : sessionByTokenHash(options.read, by.tokenHash);
  const where = 'id' in by ? { id: by.id } : { tokenHash: by.tokenHash };
  return options.prisma.session.findUnique({ where, include: { identity: true } }) as Promise<SessionWithIdentity | null>;
}

/** Refuses the token of a session that ended or whose identity is inactive, as the revocation set knows it. */
async function refuseRevoked(tokens: SessionTokens, sessionId: string, identityId: string): Promise<void> {
  if (await tokens.revoked(sessionId, identityId)) throw endedCredential('The session of this token is no longer active', 'SESSION_NOT_ACTIVE');
}

/**
 * A session token (JWT) made by this server: signature, key, issuer and times are checked here,
 * and revocation against the in-memory revocation set (every instance hears of a revocation or
 * deactivation within a second of its commit), without the database. With strict revocation the
 * session is read instead (one indexed lookup) and must still be active.
 */
async function sessionJwt(jwt: string, options: AuthenticateOptions): Promise<Caller> {
  const { loaders, tokens, now } = options;
  if (!tokens) throw unauthenticated('Session tokens (JWTs) are not enabled on this server (TOKEN_KEY_SECRET)');
  let verified;
  try {
    verified = await tokens.verify(jwt, now);
  } catch (error) {
    // Past its signature (expired, not valid yet) the token is one this server made.
    if (error instanceof TokenRefusal) throw error.code === 'TOKEN_INVALID' ? unauthenticated(error.message, error.code) : endedCredential(error.message, error.code);
    throw error;
  }
  const credentialExpiresAt = new Date((verified.claims.exp ?? 0) * 1000);
  if (!tokens.settings.strictRevocation && verified.identityId) {
    await refuseRevoked(tokens, verified.sessionId, verified.identityId);
    return { kind: 'session', sessionId: verified.sessionId, identityId: verified.identityId, credentialExpiresAt };
  }
  // Strict, or a token whose `sub` is the vendor's id: the session is read for its identity.
  const found = await findSession(options, { id: verified.sessionId });
  if (!found) throw endedCredential('The session of this token is no longer active', 'SESSION_NOT_ACTIVE');
  if (tokens.settings.strictRevocation && (found.identity.state !== 'ACTIVE' || effectiveStatus(found, now) !== 'ACTIVE')) {
    throw endedCredential('The session of this token is no longer active', 'SESSION_NOT_ACTIVE');
  }
  if (!tokens.settings.strictRevocation) await refuseRevoked(tokens, found.id, found.identityId);
  const { identity, ...sessionRow } = found;
  loaders?.session.prime(sessionRow.id, sessionRow);
  loaders?.identity.prime(identity.id, identity);
  return { kind: 'session', sessionId: found.id, identityId: found.identityId, credentialExpiresAt };
}

async function session(token: string, options: AuthenticateOptions): Promise<Caller> {
  if (looksLikeJwt(token)) return sessionJwt(token, options);
  const { loaders, now } = options;
  // The identity comes in the same statement: almost every session request reads it next.
  const found = await findSession(options, { tokenHash: Uint8Array.from(sha256(token)) });
  // As in Kratos, an inactive identity's sessions do not authenticate, whatever their own status.
  if (!found) throw unauthenticated('Invalid or expired session token', 'TOKEN_INVALID');
  // Said as for a JWT: the device holding it learns it was signed out, not that its token is garbage.
  if (found.identity.state !== 'ACTIVE' || effectiveStatus(found, now) !== 'ACTIVE') throw endedCredential('The session of this token is no longer active', 'SESSION_NOT_ACTIVE');
  const { identity, ...sessionRow } = found;
  loaders?.session.prime(sessionRow.id, sessionRow);
  loaders?.identity.prime(identity.id, identity);
  return { kind: 'session', sessionId: found.id, identityId: found.identityId };
}

/**
 * An opaque session token whose lookup waits for the planned read that answers the request: the
 * read checks the token in its own statement (one statement instead of two). Anything else the
 * request does first settles it the usual way (settlePendingSession). Until then `caller` is null,
 * which reads nothing: a path that forgot to settle fails closed.
 */
export interface PendingSession {
  tokenHash: Buffer;
  /** The usual authentication of the request's credentials: the caller, or the 401. */
  authenticate(): Promise<Caller | null>;
}

/** The session token of `Bearer <token>` credentials, when it is looked up by its hash (not a JWT). */
export function opaqueSessionToken(header: string | null): string | undefined {
  const [scheme, credentials] = header?.trim().split(/\s+/, 2) ?? [];
  if (scheme?.toLowerCase() !== 'bearer' || !credentials || looksLikeJwt(credentials) || parseApiSecretKey(credentials)) return undefined;
  return credentials;
}

/** Authenticates a pending session token the usual way, so the resolvers see its caller (or the 401 is thrown). */
export async function settlePendingSession(ctx: { caller: Caller | null; pendingSession?: PendingSession }): Promise<void> {
  const pending = ctx.pendingSession;
  if (!pending) return;
  ctx.caller = await pending.authenticate();
  ctx.pendingSession = undefined;
}

/** The token id of API token credentials (Basic, or a Bearer secretKey), if the header carries any (for per-token rate limits). */
export function apiTokenId(header: string | null): string | undefined {
  const [scheme, credentials = ''] = header?.trim().split(/\s+/, 2) ?? [];
  if (scheme?.toLowerCase() === 'bearer') return parseApiSecretKey(credentials)?.tokenId;
  if (scheme?.toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, Math.min(colon, 200)) : undefined;
}

export async function authenticate(header: string | null, options: AuthenticateOptions): Promise<Caller | null> {
  if (header === null || header.trim() === '') return null;
  const [scheme, credentials = ''] = header.trim().split(/\s+/, 2);
  switch (scheme?.toLowerCase()) {
    case 'basic': {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw unauthenticated('Basic credentials must be base64("<api token id>:<secret>")');
      return apiClient(decoded.slice(0, colon), decoded.slice(colon + 1), options);
    }
    case 'bearer': {
      if (!credentials) throw unauthenticated('Bearer credentials need a session token');
      const apiToken = parseApiSecretKey(credentials);
      return apiToken ? apiClient(apiToken.tokenId, apiToken.secret, options) : session(credentials, options);
    }
    default:
      throw unauthenticated('Authorization must be "Basic <base64 id:secret>" or "Bearer <session token>"');
  }
}

/** The value of cookie `name` in a Cookie header, if present. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      try {
        return decodeURIComponent(value) || undefined;
      } catch {
        return value || undefined;
      }
    }
  }
  return undefined;
}

/**
 * A request's credentials as one Authorization value: the header itself, else (where `sessionTokenHeader`)
 * Kratos' X-Session-Token, else the session cookie — each a session token sent as Bearer.
 * `fromCookie` tells CSRF checks that a browser may have attached it on its own.
 */
export function requestCredentials(headers: Headers, cookieName: string, sessionTokenHeader = false): { authorization: string | null; fromCookie: boolean } {
  const authorization = headers.get('authorization');
  if (authorization !== null && authorization.trim() !== '') return { authorization, fromCookie: false };
  const token = sessionTokenHeader ? headers.get('x-session-token')?.trim() : undefined;
  if (token) return { authorization: `Bearer ${token}`, fromCookie: false };
  const cookie = cookieValue(headers.get('cookie'), cookieName);
  return cookie ? { authorization: `Bearer ${cookie}`, fromCookie: true } : { authorization, fromCookie: false };
}
