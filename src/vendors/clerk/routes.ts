// Clerk's Backend API for sessions, as @clerk/backend calls it (`createClerkClient({ secretKey,
// apiUrl })`): list, get, revoke, verify, session tokens (with JWT templates) and the JWKS that
// verifyToken fetches. Clerk's JSON and error bodies, content-type exactly application/json. Callers
// are API tokens (the secretKey); the rules are the domain's.
import { requireCaller } from '../../auth/guards.js';
import type { Context } from '../../context.js';
import { codedError } from '../../errors.js';
import type { SessionStatus } from '../../generated/prisma/enums.js';
import { adminRevokeSession } from '../../sessions/admin.js';
import { identityIdFromPath, sessionIdFromPath, sessionsByOffset, visibleSession } from '../../sessions/reads.js';
import { issueSessionToken, tokensOf, verifyPresentedToken } from '../../tokens/issue.js';
import { codeOf, integerParam, json, RouteError, routeErrorOf, type Route, type RouteRequest, type VendorApi } from '../router.js';
import { clerkSessionJson } from './session-json.js';

const statuses: SessionStatus[] = ['ACTIVE', 'REVOKED', 'ENDED', 'EXPIRED', 'REMOVED', 'ABANDONED', 'REPLACED', 'PENDING'];

// Clerk's error codes for ours; otherwise by HTTP status.
const clerkCodes: Record<string, string> = {
  SESSION_ALREADY_REVOKED: 'session_not_active',
  SESSION_NOT_ACTIVE: 'session_not_active',
  TOKEN_INVALID: 'token_invalid',
  TOKEN_EXPIRED: 'token_expired',
  TOKEN_NOT_YET_VALID: 'token_not_active_yet',
  TOKENS_NOT_CONFIGURED: 'jwks_not_configured',
};
const codesByStatus: Record<number, string> = {
  400: 'bad_request',
  401: 'authentication_invalid',
  403: 'authorization_invalid',
  404: 'resource_not_found',
  405: 'method_not_allowed',
  413: 'request_body_too_large',
  422: 'form_param_value_invalid',
  429: 'too_many_requests',
  500: 'internal_clerk_error',
};

/** Clerk's error body: `{ errors: [{ message, long_message, code }] }`. */
function errorResponse(error: RouteError): Response {
  const code = clerkCodes[error.code] ?? (error.code === 'form_param_missing' ? error.code : codesByStatus[error.status] ?? 'bad_request');
  const message = error.status >= 500 ? 'Internal error' : error.message.split(/[:.]/)[0]!.trim();
  // Clerk refuses revoking a session that is no longer active as a bad request, not a missing one.
  const status = error.code === 'SESSION_ALREADY_REVOKED' ? 400 : error.status;
  return json({ errors: [{ message, long_message: error.message, code }] }, status, error.headers);
}

const invalidSecretKey =
  'The secret key is invalid or revoked. Send Authorization: Bearer <secretKey> with the secretKey of an active API token (<token id>.<secret>)';

/** Clerk's Backend API takes the secret key only: an API token here, never a session. */
async function apiCaller(request: RouteRequest): Promise<Context> {
  let ctx: Context;
  try {
    ctx = await request.context();
  } catch (error) {
    // The Bearer here is a secret key, so a refused one is named as such (GraphQL and Kratos, which
    // take session tokens, keep their own words). Same status, code and headers.
    const refused = routeErrorOf(error);
    if (refused?.code !== 'UNAUTHENTICATED') throw error;
    throw new RouteError(401, 'UNAUTHENTICATED', invalidSecretKey, refused.headers);
  }
  if (!ctx.caller) throw new RouteError(401, 'UNAUTHENTICATED', 'The request has no secret key: send Authorization: Bearer <secretKey>');
  if (requireCaller(ctx).kind !== 'apiClient') throw new RouteError(403, 'FORBIDDEN', 'The Backend API needs a secret key (an API token), not a session token');
  return ctx;
}

async function sessionOr404(ctx: Context, rawId: string) {
  const row = await visibleSession(ctx, await sessionIdFromPath(ctx, rawId), 'brief');
  if (!row) throw new RouteError(404, 'NOT_FOUND', `No session was found with id ${rawId}`);
  return row;
}

async function getSessionList(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const { searchParams } = request.url;
  const userId = searchParams.get('user_id');
  const clientId = searchParams.get('client_id');
  if (!userId && !clientId) throw new RouteError(422, 'form_param_missing', 'client_id or user_id is missing: one of them is required');
  const rawStatus = searchParams.get('status');
  const status = rawStatus ? statuses.find((s) => s.toLowerCase() === rawStatus) : undefined;
  if (rawStatus && !status) throw new RouteError(422, 'BAD_USER_INPUT', `status must be one of ${statuses.map((s) => s.toLowerCase()).join(', ')}`);
  const limit = integerParam(request.url, 'limit', 10, 1, 500);
  const offset = integerParam(request.url, 'offset', 0, 0, 1_000_000);
  const identityUuid = userId ? await identityIdFromPath(ctx, userId) : undefined;
  const { rows, total } = await sessionsByOffset(ctx, { identityUuid, clientId, status: status ? [status] : undefined }, limit, offset, 'brief');
  const now = ctx.now();
  const data = rows.map((row) => clerkSessionJson(row, now));
  return json(searchParams.get('paginated') === 'true' ? { data, total_count: total } : data);
}

async function getSession(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  return json(clerkSessionJson(await sessionOr404(ctx, request.params.id!), ctx.now()));
}

async function revokeSession(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const row = await sessionOr404(ctx, request.params.id!);
  await adminRevokeSession(ctx, `Session:${row.id}`);
  return json(clerkSessionJson(await sessionOr404(ctx, request.params.id!), ctx.now()));
}

async function verifySession(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const row = await sessionOr404(ctx, request.params.id!);
  const body = (await request.json()) as { token?: unknown };
  if (typeof body?.token !== 'string' || body.token === '') throw new RouteError(422, 'form_param_missing', 'token is missing');
  const verified = await verifyPresentedToken(ctx, body.token);
  if (verified.sessionId !== row.id) throw codedError('TOKEN_INVALID', 'The token belongs to another session');
  return json(clerkSessionJson(await sessionOr404(ctx, request.params.id!), ctx.now()));
}

async function getToken(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const row = await sessionOr404(ctx, request.params.id!);
  const body = (await request.json()) as { expires_in_seconds?: unknown };
  if (body?.expires_in_seconds !== undefined) {
    throw new RouteError(422, 'BAD_USER_INPUT', 'expires_in_seconds is not supported: a JWT template\'s lifetime sets how long its tokens live');
  }
  const template = request.params.template;
  try {
    const issued = await issueSessionToken(ctx, row.id, { template });
    return json({ object: 'token', jwt: issued.jwt });
  } catch (error) {
    if (codeOf(error) === 'NOT_FOUND') {
      throw new RouteError(404, 'NOT_FOUND', `No JWT template named ${JSON.stringify(template)}`);
    }
    throw error;
  }
}

async function jwks(request: RouteRequest): Promise<Response> {
  await apiCaller(request);
  const ctx = await request.context();
  return json(await tokensOf(ctx).keys.jwks(), 200, { 'cache-control': 'public, max-age=300' });
}

export function clerkApi(prefix: string): VendorApi {
  const routes: Route[] = [
    { method: 'GET', path: '/v1/sessions', handler: getSessionList },
    { method: 'GET', path: '/v1/sessions/:id', handler: getSession },
    { method: 'POST', path: '/v1/sessions/:id/revoke', handler: revokeSession },
    { method: 'POST', path: '/v1/sessions/:id/verify', handler: verifySession },
    { method: 'POST', path: '/v1/sessions/:id/tokens', handler: getToken },
    { method: 'POST', path: '/v1/sessions/:id/tokens/:template', handler: getToken },
    { method: 'GET', path: '/v1/jwks', handler: jwks },
  ];
  return { name: 'Clerk', prefix, routes, credentials: (headers) => ({ authorization: headers.get('authorization') }), errorResponse };
}
