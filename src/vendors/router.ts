// The small router the vendor APIs share: routes by method and path under a prefix, the request's
// context (the same one GraphQL builds: caller, limits, loaders) made once and only when a route
// asks, JSON bodies read within MAX_REQUEST_BODY_BYTES, and every error turned into the vendor's
// own error body by the vendor's `errorResponse`.
import { GraphQLError } from 'graphql';
import type { Context } from '../context.js';
import type { Logger } from '../logger.js';

/**
 * Builds the request's context from the credentials a vendor's SDK sends (an Authorization value).
 * `deferSession`: an opaque session token is checked by the route's own read (one statement), as
 * the planned GraphQL reads do; until then the caller is pending (see settlePendingSession).
 */
export type ContextFor = (credentials: { authorization: string | null }, options?: { deferSession?: boolean }) => Promise<Context>;

export interface RouteRequest {
  request: Request;
  url: URL;
  /** Path parameters (`:id`), decoded. */
  params: Record<string, string>;
  /** The caller's context, authenticated the vendor's way (made once; `deferSession` only on the first call counts). */
  context(options?: { deferSession?: boolean }): Promise<Context>;
  /** The JSON body; `{}` when there is none. */
  json(): Promise<unknown>;
}

export type RouteHandler = (request: RouteRequest) => Promise<Response>;

export interface Route {
  method: string;
  /** Under the prefix, with `:name` segments: `/sessions/:id/revoke`. */
  path: string;
  handler: RouteHandler;
}

/** A problem the route found in the request itself (a vendor's 400 / 404 / 405), with a code. */
export class RouteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface VendorApi {
  name: string;
  prefix: string;
  routes: Route[];
  /** The Authorization value the vendor's SDK means by its headers (Kratos: X-Session-Token, the cookie). */
  credentials(headers: Headers): { authorization: string | null };
  /** The vendor's error body and status for `error` (a RouteError, a coded GraphQLError, or anything else: 500). */
  errorResponse(error: RouteError): Response;
}

/** A domain error's code (`extensions.code`), if it has one. */
export function codeOf(error: unknown): string | undefined {
  return error instanceof GraphQLError ? (error.extensions.code as string | undefined) : undefined;
}

/** How a domain error's code reads over HTTP; the vendor decides the body. */
export function routeErrorOf(error: unknown): RouteError | undefined {
  if (error instanceof RouteError) return error;
  if (!(error instanceof GraphQLError)) return undefined;
  const code = String(error.extensions.code ?? 'BAD_REQUEST');
  const http = error.extensions.http as { status?: number; headers?: Record<string, string> } | undefined;
  const status = http?.status ?? statusByCode[code] ?? 400;
  return new RouteError(status, code, error.message, http?.headers ?? {});
}

const statusByCode: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  SIGNED_FLOW_REQUIRED: 403,
  NOT_FOUND: 404,
  CHALLENGE_NOT_FOUND: 404,
  SESSION_ALREADY_REVOKED: 404,
  CREDENTIAL_ALREADY_REVOKED: 404,
  CREDENTIAL_EXISTS: 409,
  CONFLICT: 409,
  TOO_MANY_CHALLENGES: 429,
  RATE_LIMITED: 429,
  TOKENS_NOT_CONFIGURED: 501,
};

interface CompiledRoute extends Route {
  segments: string[];
}

function match(segments: string[], path: string[]): Record<string, string> | undefined {
  if (segments.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(path[i]!);
      } catch {
        return undefined;
      }
    } else if (segment !== path[i]) return undefined;
  }
  return params;
}

async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new RouteError(413, 'BODY_TOO_LARGE', `The body is larger than ${maxBytes} bytes (MAX_REQUEST_BODY_BYTES)`);
  const text = await request.text();
  if (Buffer.byteLength(text) > maxBytes) throw new RouteError(413, 'BODY_TOO_LARGE', `The body is larger than ${maxBytes} bytes (MAX_REQUEST_BODY_BYTES)`);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new RouteError(400, 'BAD_REQUEST', 'The body is not JSON');
  }
}

/** One handler for every vendor API: the response, or undefined when no vendor prefix matches. */
export function serveVendors(apis: VendorApi[], options: { logger: Logger; maxBodyBytes: number }) {
  const compiled = apis
    .filter((api) => api.prefix)
    .map((api) => ({ api, routes: api.routes.map((route): CompiledRoute => ({ ...route, segments: route.path.split('/').filter(Boolean) })) }));
  return async (request: Request, url: URL, contextFor: ContextFor): Promise<Response | undefined> => {
    const served = compiled.find(({ api }) => url.pathname === api.prefix || url.pathname.startsWith(`${api.prefix}/`));
    if (!served) return undefined;
    const { api, routes } = served;
    const path = url.pathname.slice(api.prefix.length).split('/').filter(Boolean);
    const candidates = routes.flatMap((route) => {
      const params = match(route.segments, path);
      return params ? [{ route, params }] : [];
    });
    const found = candidates.find(({ route }) => route.method === request.method);
    try {
      if (!found) {
        if (candidates.length === 0) throw new RouteError(404, 'NOT_FOUND', `${api.name} has no route ${url.pathname.slice(api.prefix.length) || '/'} here`);
        const allowed = [...new Set(candidates.map(({ route }) => route.method))].join(', ');
        throw new RouteError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not served on this route; use ${allowed}`, { allow: allowed });
      }
      let context: Promise<Context> | undefined;
      return await found.route.handler({
        request,
        url,
        params: found.params,
        context: (contextOptions) => (context ??= contextFor(api.credentials(request.headers), contextOptions)),
        json: () => readJson(request, options.maxBodyBytes),
      });
    } catch (error) {
      const known = routeErrorOf(error);
      if (known) return api.errorResponse(known);
      options.logger.error('a vendor route failed', { vendor: api.name, path: url.pathname, error: (error as Error).message, stack: (error as Error).stack });
      return api.errorResponse(new RouteError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'));
    }
  };
}

/** A JSON response with content-type exactly `application/json` (Clerk's SDK parses nothing else). */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** An integer query parameter within [min, max], or the fallback when absent; a RouteError naming it otherwise. */
export function integerParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new RouteError(400, 'BAD_REQUEST', `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** A boolean query parameter (`true` / `false`, as Go's strconv.ParseBool reads them), or undefined. */
export function booleanParam(url: URL, name: string): boolean | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  if (['true', '1', 't', 'T', 'TRUE', 'True'].includes(raw)) return true;
  if (['false', '0', 'f', 'F', 'FALSE', 'False'].includes(raw)) return false;
  throw new RouteError(400, 'BAD_REQUEST', `could not parse parameter ${name}`);
}
