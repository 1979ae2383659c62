// Subscriptions over Server-Sent Events (GraphQL over SSE, distinct connections mode, as Yoga
// serves it) with two additions Yoga's own stream lacks: each message carries the event's id as the
// SSE `id:` field — so a browser's EventSource sends it back as Last-Event-ID when it reconnects,
// and the subscription resumes there — and the keep-alive interval is ours to set.
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';

type Result = ExecutionResult & { extensions?: Record<string, unknown> };

/** The SSE response for a stream of results. */
function eventStream(results: AsyncIterable<Result>, fetchAPI: { ReadableStream: typeof ReadableStream; Response: typeof Response }, heartbeatMs: number): Response {
  const encoder = new TextEncoder();
  let iterator: AsyncIterator<Result>;
  let heartbeat: NodeJS.Timeout | undefined;
  const stream = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // Some browsers wait for the first bytes before they hand the stream over.
      controller.enqueue(encoder.encode(':\n\n'));
      heartbeat = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(heartbeat);
        else if (controller.desiredSize > 0) controller.enqueue(encoder.encode(':\n\n'));
      }, heartbeatMs);
      iterator = results[Symbol.asyncIterator]();
    },
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (value != null) {
          const { http: _http, ...extensions } = value.extensions ?? {};
          const message = { ...value, ...(Object.keys(extensions).length ? { extensions } : { extensions: undefined }) };
          const id = typeof extensions.eventId === 'string' ? `id: ${extensions.eventId}\n` : '';
          controller.enqueue(encoder.encode(`${id}event: next\ndata: ${JSON.stringify(message)}\n\n`));
        }
        if (done) {
          clearInterval(heartbeat);
          controller.enqueue(encoder.encode('event: complete\ndata:\n\n'));
          controller.close();
        }
      } catch (error) {
        clearInterval(heartbeat);
        controller.error(error);
      }
    },
    async cancel(reason) {
      clearInterval(heartbeat);
      await iterator?.return?.(reason);
    },
  });
  return new fetchAPI.Response(stream, {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'content-encoding': 'none' },
  });
}

export function eventStreamPlugin(heartbeatMs: number): Plugin<Context> {
  return {
    // Every result a subscription yields names the event it carries (extensions.eventId), whatever
    // fields the client selected: the SSE id above, and the resume point over WebSocket too.
    onSubscribe() {
      return {
        onSubscribeResult({ args }) {
          const ctx = args.contextValue as Context;
          return {
            onNext({ result, setResult }) {
              const eventId = ctx.deliveredEventId;
              if (!eventId) return;
              ctx.deliveredEventId = undefined;
              setResult({ ...result, extensions: { ...result.extensions, eventId } });
            },
          };
        },
      };
    },
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result) || !(request.headers.get('accept') ?? '').includes('text/event-stream')) return;
      setResultProcessor((results, fetchAPI) => eventStream(results as AsyncIterable<Result>, fetchAPI, heartbeatMs), 'text/event-stream');
    },
  };
}
