// Counts every request and GraphQL operation into the metrics, and serves them at /metrics in
// Prometheus' text format — to API tokens only, unless METRICS_PORT gives them a port of their own
// (then /metrics here does not exist, and that port serves them to whoever can reach it).
import type { IncomingMessage } from 'node:http';
import { getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { unauthenticated, type Caller } from '../auth/caller.js';
import type { Metrics } from '../metrics.js';
import { isPlannedResult } from './planned-reads.js';

const routes = new Set(['/graphql', '/healthz', '/readyz', '/metrics']);

/** The caller of a request's Authorization header, as every route authenticates it: a wrong credential counts toward the rate limits. */
export type CallerOf = (request: Request, req: IncomingMessage | undefined) => Promise<Caller | null>;

export function metricsPlugin(metrics: Metrics, options: { callerOf: CallerOf; serve: boolean }): Plugin<object, { req?: IncomingMessage }> {
  // The error's own status and headers: 401 with WWW-Authenticate, or 429 with Retry-After past the limits.
  const error = (e: GraphQLError) => {
    const http = e.extensions.http as { status?: number; headers?: Record<string, string> } | undefined;
    return new Response(JSON.stringify({ errors: [{ message: e.message, extensions: { code: e.extensions.code } }] }), {
      status: http?.status ?? 401,
      headers: { 'content-type': 'application/json', ...http?.headers },
    });
  };
  return {
    async onRequest({ url, request, serverContext, endResponse }) {
      if (!options.serve || url.pathname !== '/metrics') return;
      try {
        const caller = await options.callerOf(request, serverContext?.req);
        if (caller?.kind !== 'apiClient') throw unauthenticated('Metrics need an API token: Authorization: Basic base64(<token id>:<secret>)');
      } catch (e) {
        if (e instanceof GraphQLError) return endResponse(error(e));
        throw e;
      }
      endResponse(new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }));
    },
    onResponse({ request, response }) {
      const path = new URL(request.url).pathname;
      metrics.httpRequests.inc({ method: request.method, route: routes.has(path) ? path : 'other', status: String(response.status) });
    },
    onExecute() {
      const started = performance.now();
      return {
        onExecuteDone({ args, result }) {
          metrics.operationsAnswered.inc({ path: isPlannedResult(result) ? 'planner' : 'resolvers' });
          const operation = getOperationAST(args.document, args.operationName);
          const seconds = (performance.now() - started) / 1000;
          metrics.operationDuration.observe({ operation: metrics.operationLabel(operation?.name?.value), type: operation?.operation ?? 'unknown' }, seconds);
        },
      };
    },
    onResultProcess({ result }) {
      const results = Array.isArray(result) ? result : [result];
      for (const one of results) {
        for (const e of (one as { errors?: readonly GraphQLError[] }).errors ?? []) {
          metrics.errors.inc({ code: String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
        }
      }
    },
  };
}
