// Ory Kratos' session API, as @ory/client's FrontendApi and IdentityApi call it: the caller's own
// sessions (whoami, list, revoke) and the admin routes, with Kratos' JSON, pagination (page_size /
// page_token and a Link header; bare arrays) and error bodies. The rules are the domain's.
import { requestCredentials } from '../../auth/caller.js';
import { requireCaller } from '../../auth/guards.js';
import type { Context } from '../../context.js';
import { decodeCursor } from '../../domain/pagination.js';
import { codedError } from '../../errors.js';
import { revokeOwnOtherSessions, revokeOwnSession } from '../../revocation/unsigned.js';
import { adminRevokeSession, extendSession, revokeIdentitySessions } from '../../sessions/admin.js';
import { callerSession, identityIdFromPath, sessionIdFromPath, sessionsByKeyset, visibleSession, type SessionRow } from '../../sessions/reads.js';
import { issueSessionToken } from '../../tokens/issue.js';
import { booleanParam, codeOf, json, RouteError, type Route, type RouteRequest, type VendorApi } from '../router.js';
import { kratosIdentityId, kratosSessionJson } from './session-json.js';

const statusText: Record<number, [string, string]> = {
  400: ['Bad Request', 'The request was malformed or contained invalid parameters'],
  401: ['Unauthorized', 'The request could not be authorized'],
  403: ['Forbidden', 'The requested action was forbidden'],
  404: ['Not Found', 'The requested resource could not be found'],
  405: ['Method Not Allowed', 'The request method is not supported for this resource'],
  409: ['Conflict', 'The resource could not be created due to a conflict'],
  413: ['Request Entity Too Large', 'The request body is too large'],
  429: ['Too Many Requests', 'The request was rejected due to rate limiting'],
  500: ['Internal Server Error', 'An internal server error occurred, please contact the system administrator'],
  501: ['Not Implemented', 'This feature is not implemented'],
};

/** Kratos' (herodot's) error body: `{ error: { code, status, message, reason, id? } }`. */
function errorResponse(error: RouteError): Response {
  const [status, message] = statusText[error.status] ?? ['Error', error.message];
  const id = error.status === 401 ? 'session_inactive' : error.code === 'SIGNED_FLOW_REQUIRED' ? 'signed_flow_required' : undefined;
  return json({ error: { code: error.status, status, message, reason: error.message, ...(id ? { id } : {}) } }, error.status, error.headers);
}

/** The calling session, or Kratos' 401: no valid session in the request. */
async function sessionCaller(request: RouteRequest): Promise<{ ctx: Context; sessionId: string; identityId: string }> {
  const ctx = await request.context();
  if (ctx.caller?.kind !== 'session') throw new RouteError(401, 'UNAUTHENTICATED', 'No valid session credentials found in the request.');
  return { ctx, sessionId: ctx.caller.sessionId, identityId: ctx.caller.identityId };
}

/** Admin routes: an API token (a READ one may read), never a session. */
async function apiCaller(request: RouteRequest): Promise<Context> {
  const ctx = await request.context();
  const caller = requireCaller(ctx);
  if (caller.kind !== 'apiClient') throw new RouteError(403, 'FORBIDDEN', 'The admin API needs an API token (Authorization: Bearer <secretKey>), not a session');
  return ctx;
}

type Expand = { identity: boolean; devices: boolean };

function expandParam(url: URL, fallback: Expand): Expand {
  const values = url.searchParams.getAll('expand');
  if (values.length === 0) return fallback;
  const expand = { identity: false, devices: false };
  for (const value of values) {
    if (value !== 'identity' && value !== 'devices') throw new RouteError(400, 'BAD_REQUEST', `Could not parse expand option: ${value}`);
    expand[value] = true;
  }
  return expand;
}

function sessionJson(ctx: Context, row: SessionRow, admin: boolean, expand: Expand = { identity: true, devices: true }, tokenized?: string) {
  const body = kratosSessionJson(row, { now: ctx.now(), admin, tokenized });
  if (!expand.identity) delete body.identity;
  if (!expand.devices) delete body.devices;
  return body;
}

/**
 * Kratos' page parameters: page_size (per_page, deprecated, read the same) and page_token; the
 * deprecated page numbers are refused. Larger pages than MAX_PAGE_SIZE are cut to it, as Kratos cuts
 * to its own maximum.
 */
function pageParams(url: URL, ctx: Context): { size: number; token?: string } {
  if (url.searchParams.has('page') && !url.searchParams.has('page_token')) {
    throw new RouteError(400, 'BAD_REQUEST', 'Page numbers (page) are not supported: follow the page_token of the Link header\'s rel="next"');
  }
  const raw = url.searchParams.get('page_size') ?? url.searchParams.get('per_page');
  let size = Math.min(250, ctx.maxPageSize);
  if (raw !== null && raw !== '') {
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new RouteError(400, 'BAD_REQUEST', 'could not parse parameter page_size');
    size = Math.min(Number(raw), ctx.maxPageSize);
  }
  const token = url.searchParams.get('page_token') || undefined;
  if (token) {
    try {
      decodeCursor(token, 'after');
    } catch {
      throw new RouteError(400, 'BAD_REQUEST', 'could not parse parameter page_token: use the one from the Link header');
    }
  }
  return { size, token };
}

/** The page as Kratos answers it: a bare array, and the next page in the Link header. */
function pageResponse(url: URL, size: number, next: string | null, body: unknown[]): Response {
  const link = (token?: string) => {
    const target = new URL(url);
    target.searchParams.delete('per_page');
    target.searchParams.delete('page');
    target.searchParams.set('page_size', String(size));
    if (token) target.searchParams.set('page_token', token);
    else target.searchParams.delete('page_token');
    return `<${target.pathname}${target.search}>`;
  };
  const links = [`${link()}; rel="first"`, ...(next ? [`${link(next)}; rel="next"`] : [])];
  return json(body, 200, { link: links.join(',') });
}

async function whoami(request: RouteRequest): Promise<Response> {
  const ctx = await request.context({ deferSession: true });
  // The token is checked in the statement that reads the session (one statement in all).
  const row = await callerSession(ctx, 'full');
  if (!row) throw new RouteError(401, 'UNAUTHENTICATED', 'No valid session credentials found in the request.');
  const template = request.url.searchParams.get('tokenize_as');
  let tokenized: string | undefined;
  if (template) {
    try {
      tokenized = (await issueSessionToken(ctx, row.id, { template, tokenize: true })).jwt;
    } catch (error) {
      if (codeOf(error) === 'NOT_FOUND') {
        throw new RouteError(400, 'BAD_REQUEST', `Unable to find tokenizer template ${JSON.stringify(template)}`);
      }
      throw error;
    }
  }
  return json(sessionJson(ctx, row, false, undefined, tokenized), 200, { 'x-kratos-authenticated-identity-id': kratosIdentityId(row.identity) });
}

async function listMySessions(request: RouteRequest): Promise<Response> {
  const { ctx, sessionId } = await sessionCaller(request);
  const { size, token } = pageParams(request.url, ctx);
  const { rows, next } = await sessionsByKeyset(ctx, { active: true, notId: sessionId }, size, token, 'full');
  return pageResponse(request.url, size, next, rows.map((row) => sessionJson(ctx, row, false)));
}

async function disableMyOtherSessions(request: RouteRequest): Promise<Response> {
  const { ctx } = await sessionCaller(request);
  return json({ count: await revokeOwnOtherSessions(ctx) });
}

async function disableMySession(request: RouteRequest): Promise<Response> {
  const { ctx } = await sessionCaller(request);
  await revokeOwnSession(ctx, await sessionIdFromPath(ctx, request.params.id!));
  return new Response(null, { status: 204 });
}

async function listSessions(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const active = booleanParam(request.url, 'active');
  const expand = expandParam(request.url, { identity: false, devices: false });
  const { size, token } = pageParams(request.url, ctx);
  const { rows, next } = await sessionsByKeyset(ctx, { active }, size, token, expand.identity ? 'full' : 'brief');
  return pageResponse(request.url, size, next, rows.map((row) => sessionJson(ctx, row, true, expand)));
}

async function adminSessionOr404(request: RouteRequest, ctx: Context): Promise<SessionRow> {
  const row = await visibleSession(ctx, await sessionIdFromPath(ctx, request.params.id!), 'full');
  if (!row) throw new RouteError(404, 'NOT_FOUND', 'Unable to locate the resource');
  return row;
}

async function getSession(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const expand = expandParam(request.url, { identity: true, devices: true });
  return json(sessionJson(ctx, await adminSessionOr404(request, ctx), true, expand));
}

async function disableSession(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const row = await adminSessionOr404(request, ctx);
  try {
    await adminRevokeSession(ctx, `Session:${row.id}`);
  } catch (error) {
    // Kratos' revocation is idempotent: an inactive session stays inactive, 204 either way.
    if (codeOf(error) !== 'SESSION_ALREADY_REVOKED') throw error;
  }
  return new Response(null, { status: 204 });
}

/** How long Kratos would extend by: the session's own lifespan (24 h for one without an expiry). */
const defaultLifespanMs = 24 * 60 * 60 * 1000;

async function extend(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const row = await adminSessionOr404(request, ctx);
  const lifespan = row.expiresAt ? Math.max(row.expiresAt.getTime() - row.issuedAt.getTime(), 60_000) : defaultLifespanMs;
  try {
    await extendSession(ctx, `Session:${row.id}`, new Date(ctx.now().getTime() + lifespan));
  } catch (error) {
    const code = codeOf(error);
    // Kratos answers 404 for a session it will not extend (inactive or gone).
    if (code === 'BAD_USER_INPUT' || code === 'SESSION_ALREADY_REVOKED') throw new RouteError(404, 'NOT_FOUND', 'Unable to locate the resource');
    throw error;
  }
  return new Response(null, { status: 204 });
}

async function listIdentitySessions(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const active = booleanParam(request.url, 'active');
  const identityUuid = await identityIdFromPath(ctx, request.params.id!);
  const { size, token } = pageParams(request.url, ctx);
  const { rows, next } = await sessionsByKeyset(ctx, { identityUuid, active }, size, token, 'full');
  return pageResponse(request.url, size, next, rows.map((row) => sessionJson(ctx, row, true)));
}

async function deleteIdentitySessions(request: RouteRequest): Promise<Response> {
  const ctx = await apiCaller(request);
  const revoked = await revokeIdentitySessions(ctx, `Identity:${await identityIdFromPath(ctx, request.params.id!)}`);
  // As Kratos: nothing to delete is a 404.
  if (revoked.length === 0) throw codedError('NOT_FOUND', 'Unable to locate the resource');
  return new Response(null, { status: 204 });
}

export function kratosApi(prefix: string, cookieName: string): VendorApi {
  const routes: Route[] = [
    { method: 'GET', path: '/sessions/whoami', handler: whoami },
    { method: 'GET', path: '/sessions', handler: listMySessions },
    { method: 'DELETE', path: '/sessions', handler: disableMyOtherSessions },
    { method: 'DELETE', path: '/sessions/:id', handler: disableMySession },
    { method: 'GET', path: '/admin/sessions', handler: listSessions },
    { method: 'GET', path: '/admin/sessions/:id', handler: getSession },
    { method: 'DELETE', path: '/admin/sessions/:id', handler: disableSession },
    { method: 'PATCH', path: '/admin/sessions/:id/extend', handler: extend },
    { method: 'GET', path: '/admin/identities/:id/sessions', handler: listIdentitySessions },
    { method: 'DELETE', path: '/admin/identities/:id/sessions', handler: deleteIdentitySessions },
  ];
  return { name: 'Kratos', prefix, routes, credentials: (headers) => requestCredentials(headers, cookieName, true), errorResponse };
}
