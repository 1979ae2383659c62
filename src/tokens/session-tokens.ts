// Session tokens: short-lived JWTs a backend verifies on its own against the published keys
// (/.well-known/jwks.json) instead of asking sessiongraph on every request — Clerk's session token,
// optionally shaped by a JWT template (Clerk templates, Kratos tokenize_as). sessiongraph accepts
// them back as credentials too, checked locally against the keys and the in-memory revocation set;
// with strict revocation, against one indexed lookup instead.
import { sign } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Query } from '../db/database.js';
import type { Identity, JwtTemplate, PrismaClient, Session } from '../generated/prisma/client.js';
import { decodeGlobalId, encodeGlobalId } from '../domain/global-id.js';
import { effectiveStatus, sessionEndsAt, sessionEndsAtSql } from '../domain/session-status.js';
import type { TokenConfig } from '../config.js';
import type { EventFeed } from '../events/feed.js';
import type { Logger } from '../logger.js';
import { KeyStore, signingAlgorithms, type SigningAlgorithm } from './keys.js';
import { RevocationSet } from './revocations.js';
import { compileClaims, maxClaimsBytes, type CompiledClaims, type PlaceholderValues } from './templates.js';

export interface TokenSettings extends Pick<TokenConfig, 'maxLifetimeSeconds'> {
  /** `iss` of every token, checked on the way back in. */
  issuer: string;
  /** Lifetime of a token made without a template (Clerk: 60 s). */
  lifetimeSeconds: number;
  /** Clock skew allowed for a token made without a template. */
  clockSkewSeconds: number;
  algorithm: SigningAlgorithm;
  /** Check on every request that a token's session is still active (one indexed lookup). */
  strictRevocation: boolean;
}

export interface IssuedToken {
  jwt: string;
  issuedAt: Date;
  expiresAt: Date;
  template: string | null;
}

/** Why a token was refused: a code a client can switch on, and a sentence. */
export class TokenRefusal extends Error {
  constructor(
    readonly code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_NOT_YET_VALID' | 'SESSION_NOT_ACTIVE',
    message: string,
  ) {
    super(message);
  }
}

export interface VerifiedToken {
  sessionId: string;
  /** Known from `sub` when the token names the identity by our id; otherwise looked up by the caller. */
  identityId?: string;
  claims: JWTPayload;
}

const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a bearer credential is a JWT (three base64url parts) rather than an opaque session token. */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith('eyJ') && jwtShape.test(token);
}

/** A template's claims, filled for this session, would not fit in a header (maxClaimsBytes). */
export class ClaimsTooLarge extends Error {}

/** What a template's placeholders may read: nothing an admin alone may see. */
function placeholderValues(session: Session, identity: Identity, now: Date): PlaceholderValues {
  return {
    identity: {
      id: encodeGlobalId('Identity', identity.id),
      externalId: identity.externalId,
      externalSource: identity.externalSource,
      traits: identity.traits,
      metadataPublic: identity.metadataPublic,
      state: identity.state,
      schemaId: identity.schemaId,
      organizationId: identity.organizationId,
      createdAt: identity.createdAt.toISOString(),
    },
    session: {
      id: encodeGlobalId('Session', session.id),
      externalId: session.externalId,
      status: effectiveStatus(session, now),
      type: session.type,
      aal: session.aal,
      clientId: session.clientId,
      actor: session.actor,
      lastActiveOrganizationId: session.lastActiveOrganizationId,
      authenticatedAt: session.authenticatedAt?.toISOString() ?? null,
      expiresAt: session.expiresAt?.toISOString() ?? null,
    },
  };
}

/** The most clock skew a template may allow (and SESSION_TOKEN_CLOCK_SKEW_SECONDS). */
export const maxClockSkewSeconds = 300;

/** How long a token may pass after it was made, at the most: the longest lifetime plus the largest skew. */
export function maxTokenPassMs(settings: Pick<TokenSettings, 'maxLifetimeSeconds'>): number {
  return (settings.maxLifetimeSeconds + maxClockSkewSeconds) * 1000;
}

// Beyond that, how long an end is remembered: a token minted while the revoking transaction was
// still open names a moment a little before its commit.
const commitMarginMs = 300_000;

const templateByName = `SELECT id, name, claims, lifetime_seconds AS "lifetimeSeconds", allowed_clock_skew_seconds AS "allowedClockSkewSeconds",
  algorithm, subject_source AS "subjectSource", created_at AS "createdAt", updated_at AS "updatedAt" FROM "public"."jwt_templates" WHERE name = $1`;

export class SessionTokens {
  private templateSkew = new Map<string, { seconds: number; loadedAt: number }>();
  // Each template's claims compiled once per version (its id and last change).
  private compiled = new Map<string, { updatedAt: number; claims: CompiledClaims }>();

  constructor(
    private readonly prisma: PrismaClient,
    readonly keys: KeyStore,
    readonly settings: TokenSettings,
    /** Ended sessions and inactive identities, in memory; absent with strict revocation (which reads the row). */
    readonly revocations?: RevocationSet,
    /** The database's direct statements: a template is then read without Prisma. */
    private readonly read?: Query,
  ) {}

  /** Makes the keys (a signing and a next key per algorithm) and loads the revocation set: at start. */
  async prepare(): Promise<void> {
    await Promise.all([this.keys.prepare(), this.revocations?.start()]);
  }

  /** Why this session's tokens are refused now without strict revocation, or undefined: no database read once loaded. */
  async revoked(sessionId: string, identityId: string): Promise<'session' | 'identity' | undefined> {
    if (!this.revocations) return undefined;
    if (!this.revocations.ready) await this.revocations.start();
    return this.revocations.refuses(sessionId, identityId);
  }

  /** The JWT template of that name, or null. */
  async template(name: string): Promise<JwtTemplate | null> {
    if (!this.read) return this.prisma.jwtTemplate.findUnique({ where: { name } });
    // PostgreSQL text holds no NUL: such a name names no template.
    if (name.includes('\0')) return null;
    const [row] = await this.read(templateByName, [name]);
    return (row as JwtTemplate | undefined) ?? null;
  }

  private claimsOf(template: JwtTemplate): CompiledClaims {
    const known = this.compiled.get(template.id);
    if (known && known.updatedAt === template.updatedAt.getTime()) return known.claims;
    const claims = compileClaims(template.claims);
    this.compiled.set(template.id, { updatedAt: template.updatedAt.getTime(), claims });
    return claims;
  }

  /**
   * When a token made now from `template` for `session` is issued and expires (whole seconds): its
   * lifetime, cut at the session's end (expiry or abandonment) — a backend that verifies the token
   * alone, without the revocation set, sees that end too.
   */
  times(template: Pick<JwtTemplate, 'lifetimeSeconds'> | null, now: Date, session: Pick<Session, 'expiresAt' | 'abandonAt'>): { issuedAt: Date; expiresAt: Date } {
    const issuedAt = Math.floor(now.getTime() / 1000);
    const lifetimeEnd = issuedAt + (template?.lifetimeSeconds ?? this.settings.lifetimeSeconds);
    const sessionEnd = sessionEndsAt(session);
    const expiresAt = sessionEnd ? Math.min(lifetimeEnd, Math.floor(sessionEnd.getTime() / 1000)) : lifetimeEnd;
    return { issuedAt: new Date(issuedAt * 1000), expiresAt: new Date(expiresAt * 1000) };
  }

  /**
   * times()'s expiresAt for a token without a template, as SQL (an ISO 8601 string, as
   * toISOString() writes it), for a statement that reads the session and writes the token's event at
   * once: `expiresAt` and `abandonAt` are SQL for the session's columns, `param` adds a parameter.
   */
  expiresAtSql(now: Date, param: (value: unknown, cast: string) => string, expiresAt: string, abandonAt: string): string {
    const lifetimeEnd = param(this.times(null, now, { expiresAt: null, abandonAt: null }).expiresAt, 'timestamptz');
    const cut = `LEAST(${lifetimeEnd}, date_trunc('second', ${sessionEndsAtSql(expiresAt, abandonAt)}))`;
    return `to_char(${cut} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  }

  /** Makes sure the key a token from `template` is signed with is at hand: after this, issue() reads nothing. */
  async readyToIssue(template: JwtTemplate | null): Promise<void> {
    await this.keys.signingKey((template?.algorithm ?? this.settings.algorithm) as SigningAlgorithm);
  }

  /** A token for an active session, with the template's claims added when one is named. */
  async issue(input: { session: Session; identity: Identity; template: JwtTemplate | null; authorizedParty?: string; now: Date }): Promise<IssuedToken> {
    const { session, identity, template, now } = input;
    const algorithm = (template?.algorithm ?? this.settings.algorithm) as SigningAlgorithm;
    const key = await this.keys.signingKey(algorithm);
    const times = this.times(template, now, session);
    const issuedAt = times.issuedAt.getTime() / 1000;
    const expiresAt = times.expiresAt.getTime() / 1000;
    const subject =
      template?.subjectSource === 'external_id' && identity.externalId ? identity.externalId : encodeGlobalId('Identity', identity.id);
    const claims: JWTPayload = {
      // The template's claims first: the defaults below always win.
      ...(template ? this.claimsOf(template)(placeholderValues(session, identity, now)) : {}),
      sid: encodeGlobalId('Session', session.id),
      sub: subject,
      iat: issuedAt,
      nbf: issuedAt,
      exp: expiresAt,
      iss: this.settings.issuer,
      v: 2,
      ...(input.authorizedParty ? { azp: input.authorizedParty } : {}),
      ...(template ? { tpl: template.name } : {}),
    };
    const payload = JSON.stringify(claims);
    const size = Buffer.byteLength(payload);
    if (size > maxClaimsBytes) {
      throw new ClaimsTooLarge(`Template ${JSON.stringify(template?.name)} filled for this session takes ${size} bytes as JSON; a token's claims may take at most ${maxClaimsBytes}`);
    }
    // A compact JWS, as jose's SignJWT writes it, signed by Node directly: RS256 is RSASSA-PKCS1-v1_5
    // over SHA-256, ES256 ECDSA P-256 with r||s (JWS's form, not DER).
    const signingInput = `${key.header}.${Buffer.from(payload).toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(signingInput), algorithm === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
    const jwt = `${signingInput}.${signature.toString('base64url')}`;
    return { jwt, ...times, template: template?.name ?? null };
  }

  /** Checks a token's signature, key, issuer and times; throws a TokenRefusal saying why not. */
  async verify(jwt: string, now: Date): Promise<VerifiedToken> {
    let header;
    try {
      header = decodeProtectedHeader(jwt);
    } catch {
      throw new TokenRefusal('TOKEN_INVALID', 'The token is not a JWS');
    }
    if (!header.kid || !(signingAlgorithms as readonly string[]).includes(header.alg ?? '')) {
      throw new TokenRefusal('TOKEN_INVALID', `The token must be signed with one of ${signingAlgorithms.join(', ')} and name its key (kid)`);
    }
    const published = await this.keys.verifyingKey(header.kid);
    if (!published || published.algorithm !== header.alg) throw new TokenRefusal('TOKEN_INVALID', 'The token was not signed by a key this server publishes');
    let claims: JWTPayload;
    try {
      // Times are checked below, with the template's skew; here only signature, algorithm and issuer.
      ({ payload: claims } = await jwtVerify(jwt, published.key, {
        issuer: this.settings.issuer,
        algorithms: [published.algorithm],
        currentDate: now,
        clockTolerance: Number.MAX_SAFE_INTEGER,
      }));
    } catch (error) {
      if (error instanceof errors.JWTClaimValidationFailed) throw new TokenRefusal('TOKEN_INVALID', `The token's ${error.claim} claim is not this server's`);
      throw new TokenRefusal('TOKEN_INVALID', 'The token\'s signature does not verify');
    }
    const skew = typeof claims.tpl === 'string' ? await this.skewOf(claims.tpl) : this.settings.clockSkewSeconds;
    const seconds = now.getTime() / 1000;
    if (typeof claims.exp !== 'number' || seconds - skew >= claims.exp) throw new TokenRefusal('TOKEN_EXPIRED', 'The token has expired');
    if (typeof claims.nbf === 'number' && seconds + skew < claims.nbf) throw new TokenRefusal('TOKEN_NOT_YET_VALID', 'The token is not valid yet');
    let sessionId: string;
    try {
      sessionId = decodeGlobalId(claims.sid, 'Session').id;
    } catch {
      throw new TokenRefusal('TOKEN_INVALID', 'The token names no session (sid)');
    }
    const identityId = typeof claims.sub === 'string' && claims.sub.startsWith('Identity:') ? decodeGlobalId(claims.sub, 'Identity').id : undefined;
    return { sessionId, identityId, claims };
  }

  private async skewOf(templateName: string): Promise<number> {
    const cached = this.templateSkew.get(templateName);
    if (cached && Date.now() - cached.loadedAt < 30_000) return cached.seconds;
    const template = await this.prisma.jwtTemplate.findUnique({ where: { name: templateName }, select: { allowedClockSkewSeconds: true } });
    // A template deleted since: its tokens keep the default skew until they expire.
    const seconds = template?.allowedClockSkewSeconds ?? this.settings.clockSkewSeconds;
    this.templateSkew.set(templateName, { seconds, loadedAt: Date.now() });
    return seconds;
  }
}

/** Session tokens over this database, when a key secret is configured; with `feed`, the revocation set follows it. */
export function createSessionTokens(
  prisma: PrismaClient,
  settings: TokenConfig,
  options: { feed?: EventFeed; logger: Logger; now: () => Date; read?: Query },
): SessionTokens | undefined {
  if (!settings.keySecret) return undefined;
  // A retired key stays published while a token it signed may still pass, skew included.
  const keys = new KeyStore(prisma, settings.keySecret, maxTokenPassMs(settings), options.now);
  const revocations =
    settings.strictRevocation || !options.feed
      ? undefined
      : new RevocationSet(prisma, options.feed, { keepMs: maxTokenPassMs(settings) + commitMarginMs, now: options.now, logger: options.logger });
  return new SessionTokens(prisma, keys, settings, revocations, options.read);
}
