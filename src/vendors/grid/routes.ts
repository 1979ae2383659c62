// Lightspark Grid's Embedded Wallet auth routes, as its OpenAPI describes them: the active sessions
// of an internal account, and the two-step signed retry (202 challenge, then the same request with
// Grid-Wallet-Signature and Request-Id) for revoking a session, adding a credential and revoking a
// credential. Grid's error body `{ status, code, message }`. The rules are the domain's.
import { encodeGlobalId, parseGlobalId } from '../../domain/global-id.js';
import { effectiveStatus } from '../../domain/session-status.js';
import type { Challenge, Credential, Identity, Session } from '../../generated/prisma/client.js';
import type { ChallengeOperation, CredentialType } from '../../generated/prisma/enums.js';
import {
  confirmSigned,
  requestCredentialAddition,
  requestCredentialRevocation,
  requestSessionRevocation,
} from '../../revocation/requests.js';
import { identityIdFromPath, sessionIdFromPath, sessionsByOffset, visibleActiveCredentials, visibleSession } from '../../sessions/reads.js';
import type { Context } from '../../context.js';
import { json, RouteError, type Route, type RouteRequest, type VendorApi } from '../router.js';

// Grid's codes for ours; otherwise by status.
const gridCodes: Record<string, string> = {
  INVALID_SIGNATURE: 'WALLET_SIGNATURE_INVALID',
  CHALLENGE_NOT_FOUND: 'WALLET_SIGNATURE_INVALID',
  CHALLENGE_EXPIRED: 'WALLET_SIGNATURE_INVALID',
  CHALLENGE_CONSUMED: 'WALLET_SIGNATURE_INVALID',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  WALLET_SIGNATURE_MISSING: 'WALLET_SIGNATURE_MISSING',
  REQUEST_ID_MISSING: 'REQUEST_ID_MISSING',
};
const codesByStatus: Record<number, string> = { 400: 'INVALID_INPUT', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT', 429: 'RATE_LIMITED', 500: 'INTERNAL_ERROR' };
// A confirmation that fails is the signed retry's 401, whatever step it failed at.
const retryFailures = new Set(['INVALID_SIGNATURE', 'CHALLENGE_NOT_FOUND', 'CHALLENGE_EXPIRED', 'CHALLENGE_CONSUMED']);

function errorResponse(error: RouteError): Response {
  const status = retryFailures.has(error.code) ? 401 : error.status === 422 ? 400 : error.status;
  const code = gridCodes[error.code] ?? codesByStatus[status] ?? 'INVALID_INPUT';
  return json({ status, code, message: status >= 500 ? 'Internal service error' : error.message, details: { reason: error.code } }, status, error.headers);
}

/** A record's id in Grid routes: Grid's own (`Session:…`, `InternalAccount:…`) for one imported from Grid, else ours. */
const gridId = (type: string, row: { id: string; externalSource: string | null; externalId: string | null }) =>
  row.externalSource === 'GRID' && row.externalId ? row.externalId : encodeGlobalId(type, row.id);

function authSessionJson(session: Session & { identity: Identity }) {
  return {
    id: gridId('Session', session),
    accountId: gridId('Identity', session.identity),
    type: session.type,
    nickname: session.nickname ?? '',
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
    expiresAt: session.expiresAt?.toISOString() ?? null,
  };
}

function challengeJson(challenge: Challenge) {
  return { payloadToSign: challenge.payloadToSign, requestId: challenge.requestId, expiresAt: challenge.expiresAt.toISOString(), type: challenge.credentialType };
}

function authMethodJson(credential: Credential, identity: Pick<Identity, 'id' | 'externalSource' | 'externalId'>) {
  return {
    id: encodeGlobalId('Credential', credential.id),
    accountId: gridId('Identity', identity),
    type: credential.type,
    nickname: credential.nickname ?? credential.identifiers[0] ?? '',
    createdAt: credential.createdAt.toISOString(),
    updatedAt: credential.updatedAt.toISOString(),
  };
}

/** The signed retry's headers: both (a retry), neither (a first call), or one alone (Grid's 401). */
function signedRetry(request: Request): { signature: string; requestId: string } | undefined {
  const signature = request.headers.get('grid-wallet-signature')?.trim();
  const requestId = request.headers.get('request-id')?.trim();
  if (!signature && !requestId) return undefined;
  if (!signature) throw new RouteError(401, 'WALLET_SIGNATURE_MISSING', 'Request-Id was sent without Grid-Wallet-Signature: the signed retry needs both');
  if (!requestId) throw new RouteError(401, 'REQUEST_ID_MISSING', 'Grid-Wallet-Signature was sent without Request-Id: echo the requestId of the 202 response');
  return { signature, requestId };
}

async function accountParam(request: RouteRequest): Promise<{ ctx: Context; identityUuid: string }> {
  const accountId = request.url.searchParams.get('accountId')?.trim();
  if (!accountId) throw new RouteError(400, 'BAD_REQUEST', 'accountId is required: the internal account to list');
  const ctx = await request.context();
  return { ctx, identityUuid: await identityIdFromPath(ctx, accountId) };
}

async function listCredentials(request: RouteRequest): Promise<Response> {
  const { ctx, identityUuid } = await accountParam(request);
  return json({ data: (await visibleActiveCredentials(ctx, identityUuid)).map((credential) => authMethodJson(credential, credential.identity)) });
}

async function listSessions(request: RouteRequest): Promise<Response> {
  const { ctx, identityUuid } = await accountParam(request);
  // An account the caller cannot see lists as empty, like one with no sessions.
  const { rows } = await sessionsByOffset(ctx, { identityUuid, active: true }, ctx.maxPageSize, 0, 'brief');
  return json({ data: rows.map(authSessionJson) });
}

/** The first call hands out the challenge; the retry confirms it, bound to this operation and target. */
async function twoStep(
  request: RouteRequest,
  ctx: Context,
  operation: ChallengeOperation,
  targetId: string | undefined,
  first: () => Promise<Challenge>,
  done: (confirmed: Awaited<ReturnType<typeof confirmSigned>>) => Response,
): Promise<Response> {
  const retry = signedRetry(request.request);
  if (!retry) return json(challengeJson(await first()), 202);
  return done(await confirmSigned(ctx, retry.requestId, retry.signature, { operation, targetId }));
}

async function revokeSession(request: RouteRequest): Promise<Response> {
  const ctx = await request.context();
  const row = await visibleSession(ctx, await sessionIdFromPath(ctx, request.params.id!), 'brief');
  // Never issued, already revoked or past its expiry: 404, on the first call and on the retry alike.
  if (!row || effectiveStatus(row, ctx.now()) !== 'ACTIVE') throw new RouteError(404, 'NOT_FOUND', `No active session ${request.params.id}`);
  return twoStep(request, ctx, 'REVOKE_SESSION', row.id, () => requestSessionRevocation(ctx, { sessionId: `Session:${row.id}` }), () => new Response(null, { status: 204 }));
}

/** The identifier and nickname Grid's create-credential body implies, per type. */
async function newCredential(ctx: Context, body: Record<string, unknown>, identityId: string): Promise<{ type: CredentialType; identifiers: string[]; nickname: string }> {
  const text = (name: string) => (typeof body[name] === 'string' && (body[name] as string).trim() ? (body[name] as string).trim() : undefined);
  switch (body.type) {
    case 'EMAIL_OTP': {
      const identity = await ctx.prisma.identity.findUnique({ where: { id: identityId }, select: { traits: true } });
      const email = (identity?.traits as { email?: unknown } | null)?.email;
      if (typeof email !== 'string' || !email) throw new RouteError(400, 'BAD_REQUEST', 'The account has no email address (traits.email) for an EMAIL_OTP credential');
      return { type: 'EMAIL_OTP', identifiers: [email], nickname: email };
    }
    case 'OAUTH': {
      const token = text('oidcToken');
      let claims: { iss?: unknown; sub?: unknown; email?: unknown } = {};
      try {
        claims = JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString('utf8')) as typeof claims;
      } catch {
        // refused below
      }
      if (typeof claims.iss !== 'string' || typeof claims.sub !== 'string') throw new RouteError(400, 'BAD_REQUEST', 'oidcToken must be an OIDC ID token with iss and sub claims');
      return { type: 'OAUTH', identifiers: [`${claims.iss}#${claims.sub}`], nickname: typeof claims.email === 'string' ? claims.email : claims.sub };
    }
    case 'PASSKEY': {
      const credentialId = typeof body.attestation === 'object' && body.attestation ? (body.attestation as { credentialId?: unknown }).credentialId : undefined;
      const nickname = text('nickname');
      if (typeof credentialId !== 'string' || !credentialId) throw new RouteError(400, 'BAD_REQUEST', 'attestation.credentialId is required for a PASSKEY credential');
      if (!nickname) throw new RouteError(400, 'BAD_REQUEST', 'nickname is required for a PASSKEY credential');
      return { type: 'PASSKEY', identifiers: [credentialId], nickname };
    }
    default:
      throw new RouteError(400, 'BAD_REQUEST', `type must be EMAIL_OTP, OAUTH or PASSKEY (got ${JSON.stringify(body.type)}); SMS_OTP credentials are not stored here`);
  }
}

async function addCredential(request: RouteRequest): Promise<Response> {
  const ctx = await request.context();
  const body = (await request.json()) as Record<string, unknown>;
  if (typeof body !== 'object' || body === null || typeof body.accountId !== 'string') throw new RouteError(400, 'BAD_REQUEST', 'accountId is required');
  const identityUuid = await identityIdFromPath(ctx, body.accountId);
  const identity = await ctx.prisma.identity.findUnique({ where: { id: identityUuid }, select: { id: true, externalSource: true, externalId: true } });
  return twoStep(
    request,
    ctx,
    'ADD_CREDENTIAL',
    undefined,
    async () => {
      if (!identity) throw new RouteError(404, 'NOT_FOUND', `No internal account ${body.accountId}`);
      const credential = await newCredential(ctx, body, identity.id);
      return requestCredentialAddition(ctx, { ...credential, identityId: `Identity:${identity.id}` });
    },
    (confirmed) => json(authMethodJson(confirmed.credential!, identity ?? { id: confirmed.credential!.identityId, externalSource: null, externalId: null }), 201),
  );
}

async function revokeCredential(request: RouteRequest): Promise<Response> {
  const ctx = await request.context();
  const raw = request.params.id!;
  const parsed = parseGlobalId(raw.replace(/^AuthMethod:/, 'Credential:'));
  if (!parsed || parsed.typename !== 'Credential') throw new RouteError(404, 'NOT_FOUND', `No authentication credential ${raw}`);
  return twoStep(
    request,
    ctx,
    'REVOKE_CREDENTIAL',
    parsed.id,
    () => requestCredentialRevocation(ctx, { credentialId: encodeGlobalId('Credential', parsed.id) }),
    () => new Response(null, { status: 204 }),
  );
}

export function gridApi(prefix: string): VendorApi {
  const routes: Route[] = [
    { method: 'GET', path: '/auth/sessions', handler: listSessions },
    { method: 'DELETE', path: '/auth/sessions/:id', handler: revokeSession },
    { method: 'GET', path: '/auth/credentials', handler: listCredentials },
    { method: 'POST', path: '/auth/credentials', handler: addCredential },
    { method: 'DELETE', path: '/auth/credentials/:id', handler: revokeCredential },
  ];
  return { name: 'Grid', prefix, routes, credentials: (headers) => ({ authorization: headers.get('authorization') }), errorResponse };
}
