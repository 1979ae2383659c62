// One JSON log line per request, a request id on every response (the caller's own X-Request-Id if
// it sent a sane one), and every unexpected error logged in full under that id: a resolver's (with
// its path) and one that fails the whole request (a 500), while the client sees a masked message.
import { AsyncLocalStorage } from 'node:async_hooks';
import { GraphQLError } from 'graphql';
import { maskError, type Plugin, type YogaServerOptions } from 'graphql-yoga';
import type { Context } from '../context.js';
import type { Logger } from '../logger.js';
import { logRequest, requestIdFor } from './request-id.js';

type MaskError = NonNullable<Exclude<YogaServerOptions<object, object>['maskedErrors'], boolean | undefined>['maskError']>;

export interface RequestLog {
  plugin: Plugin<Context>;
  /** The id of a request the plugin has seen. */
  requestId(request: Request): string | undefined;
  /** Yoga's masking, logging first what fails a request outside any resolver. */
  maskError: MaskError;
}

export function requestLog(logger: Logger): RequestLog {
  const requestIds = new WeakMap<Request, string>();
  const startedAt = new WeakMap<Request, number>();
  // Errors that fail a whole request reach maskError without the request: this carries its id there.
  const scope = new AsyncLocalStorage<string>();
  const plugin: Plugin<Context> = {
    onRequest({ request }) {
      const requestId = requestIdFor(request.headers.get('x-request-id'));
      requestIds.set(request, requestId);
      startedAt.set(request, performance.now());
      scope.enterWith(requestId);
    },
    onResponse({ request, response }) {
      const requestId = requestIds.get(request) ?? requestIdFor(undefined);
      response.headers.set('x-request-id', requestId);
      logRequest(logger, { requestId, method: request.method, path: new URL(request.url).pathname, status: response.status, startedAt: startedAt.get(request) ?? performance.now() });
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
  return {
    plugin,
    requestId: (request) => requestIds.get(request),
    maskError(error, message, isDev) {
      const original = error instanceof GraphQLError ? error.originalError : error;
      // Resolver errors (they have a path) are logged above, with the operation's context.
      if (original && !(original instanceof GraphQLError) && !(error instanceof GraphQLError && error.path)) {
        logger.error('unexpected error', { requestId: scope.getStore(), error: original });
      }
      return maskError(error, message, isDev);
    },
  };
}
