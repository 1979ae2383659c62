// Session tokens: short-lived JWTs a backend verifies on its own against the published keys
// (/.well-known/jwks.json) instead of asking sessiongraph on every request — Clerk's session token,
// optionally shaped by a JWT template (Clerk templates, Kratos tokenize_as). sessiongraph accepts
// them back as credentials too, checked locally; with strict revocation, plus one indexed lookup.
import { sign } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Query } from '../db/database.js';
import type { Identity, JwtTemplate, PrismaClient, Session } from '../generated/prisma/client.js';
import { decodeGlobalId, encodeGlobalId } from '../domain/global-id.js';
import { effectiveStatus } from '../domain/session-status.js';
import { signingAlgorithms, type KeyStore, type SigningAlgorithm } from './keys.js';
import { compileClaims, type CompiledClaims } from './templates.js';

export interface TokenSettings {
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

/** What a template's placeholders may read: nothing an admin alone may see. */
function placeholderValues(session: Session, identity: Identity, now: Date) {
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
    /** The database's direct statements: a template is then read without Prisma. */
    private readonly read?: Query,
  ) {}

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

  /** A token for an active session, with the template's claims added when one is named. */
  async issue(input: { session: Session; identity: Identity; template: JwtTemplate | null; authorizedParty?: string; now: Date }): Promise<IssuedToken> {
    const { session, identity, template, now } = input;
    const algorithm = (template?.algorithm ?? this.settings.algorithm) as SigningAlgorithm;
    const key = await this.keys.signingKey(algorithm);
    const issuedAt = Math.floor(now.getTime() / 1000);
    const expiresAt = issuedAt + (template?.lifetimeSeconds ?? this.settings.lifetimeSeconds);
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
    // A compact JWS, as jose's SignJWT writes it, signed by Node directly: RS256 is RSASSA-PKCS1-v1_5
    // over SHA-256, ES256 ECDSA P-256 with r||s (JWS's form, not DER).
    const signingInput = `${key.header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(signingInput), algorithm === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
    const jwt = `${signingInput}.${signature.toString('base64url')}`;
    return { jwt, issuedAt: new Date(issuedAt * 1000), expiresAt: new Date(expiresAt * 1000), template: template?.name ?? null };
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
