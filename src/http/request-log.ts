// One JSON log line per request, a request id on every response (the caller's own X-Request-Id if
// it sent a sane one), and every unexpected resolver error logged in full under that id.
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import type { Logger } from '../logger.js';

const requestIdPattern = /^[\w.:-]{1,128}$/;

export function requestLogPlugin(logger: Logger, requestIds: WeakMap<Request, string>): Plugin<Context> {
  const startedAt = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      // Honour a caller's (or proxy's) request id so one id follows a request across services.
      const given = request.headers.get('x-request-id');
      requestIds.set(request, given && requestIdPattern.test(given) ? given : randomUUID());
      startedAt.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const requestId = requestIds.get(request) ?? randomUUID();
      response.headers.set('x-request-id', requestId);
      const url = new URL(request.url);
      logger.info('request', {
        requestId,
        method: request.method,
        path: url.pathname,
        status: response.status,
        durationMs: Math.round((performance.now() - (startedAt.get(request) ?? performance.now())) * 100) / 100,
      });
    },
    onExecute() {
      return {
        onExecuteDone({ args, result }) {
          if (!('errors' in result) || !result.errors) return;
          for (const error of result.errors) {
            // Errors we raise on purpose carry a code; anything else is a bug to log in full.
            const original = error.originalError;
            if (original && !(original instanceof GraphQLError)) {
              logger.error('unexpected error in resolver', {
                requestId: args.contextValue.requestId,
                path: error.path?.join('.'),
                error: original,
              });
            }
          }
        },
      };
    },
  };
}

