// Subscriptions (and any other operation) over WebSocket, with the graphql-ws protocol at /graphql.
// The client authenticates in connection_init ({ authorization: "Bearer …" | "Basic …" }): a
// connection whose credentials do not authenticate is closed (4403) before any subscription, and
// each subscription authenticates again, so a session revoked meanwhile cannot start a new one.
// Every operation runs through the same Yoga plugins (limits, armor, masking) as over HTTP.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { handleProtocols, type SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { App } from '../server.js';

export interface WebSocketOptions {
  /** Ping this often; a client that does not answer is dropped. */
  heartbeatMs: number;
  /** Close a connection that has held no subscription for this long. */
  idleMs: number;
  /** The largest message accepted. */
  maxPayloadBytes: number;
  production: boolean;
}

type Envelope = ReturnType<App['getEnveloped']>;

/** What Yoga's context function reads from an HTTP request, made from the upgrade request and connection_init. */
function initialContext(request: IncomingMessage, socket: WebSocket, connectionParams: Record<string, unknown> | undefined, params?: SubscribePayload) {
  const headers = new Headers();
  const authorization = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof authorization === 'string') headers.set('authorization', authorization);
  for (const name of ['x-forwarded-for', 'x-request-id']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  return { req: request, socket, params, request: new Request('http://websocket/graphql', { headers }) };
}

export interface WebSocketEndpoint {
  /** Closes every connection (1001, going away). */
  close(): Promise<void>;
}

export function attachWebSockets(server: Server, app: () => Promise<App>, options: WebSocketOptions): WebSocketEndpoint {
  const sockets = new WebSocketServer({ noServer: true, handleProtocols, maxPayload: options.maxPayloadBytes });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (request.url?.split('?')[0] !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request));
  };
  server.on('upgrade', onUpgrade);

  // Subscriptions held per connection, and the timer that closes it when it holds none.
  const held = new Map<WebSocket, { count: number; idle?: NodeJS.Timeout }>();
  const watchIdle = (socket: WebSocket) => {
    const state = held.get(socket) ?? { count: 0 };
    held.set(socket, state);
    clearTimeout(state.idle);
    if (state.count > 0) return;
    state.idle = setTimeout(() => socket.close(4408, 'Idle: no subscription for SUBSCRIPTION_IDLE_SECONDS'), options.idleMs);
    state.idle.unref();
  };
  sockets.on('connection', (socket) => {
    watchIdle(socket);
    socket.once('close', () => {
      clearTimeout(held.get(socket)?.idle);
      held.delete(socket);
    });
  });
  const change = (socket: WebSocket, by: number) => {
    const state = held.get(socket);
    if (!state) return;
    state.count = Math.max(0, state.count + by);
    watchIdle(socket);
  };

  useServer(
    {
      isProd: options.production,
      execute: (args) => (args.rootValue as Envelope).execute(args),
      subscribe: (args) => (args.rootValue as Envelope).subscribe(args),
      onConnect: async (ctx) => {
        const envelope = (await app()).getEnveloped(initialContext(ctx.extra.request, ctx.extra.socket, ctx.connectionParams));
        try {
          const context = (await envelope.contextFactory()) as { caller?: unknown };
          // Anonymous callers may only read the schema: nothing a WebSocket is for.
          return Boolean(context.caller);
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        change(ctx.extra.socket, +1);
        const envelope = (await app()).getEnveloped(initialContext(ctx.extra.request, ctx.extra.socket, ctx.connectionParams, payload));
        let args: ExecutionArgs;
        try {
          // Parsing and the context (authentication, rate limits) refuse with GraphQL errors.
          args = {
            schema: envelope.schema,
            operationName: payload.operationName,
            document: envelope.parse(payload.query),
            variableValues: payload.variables,
            contextValue: await envelope.contextFactory(),
            rootValue: envelope,
          };
        } catch (error) {
          change(ctx.extra.socket, -1);
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = envelope.validate(args.schema, args.document);
        if (errors.length > 0) {
          change(ctx.extra.socket, -1);
          return errors;
        }
        return args;
      },
      onComplete: (ctx) => change(ctx.extra.socket, -1),
    },
    sockets,
    options.heartbeatMs,
  );

  return {
    async close() {
      server.off('upgrade', onUpgrade);
      for (const socket of sockets.clients) socket.close(1001, 'Server shutting down; reconnect and resume after your last event id');
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
    },
  };
}
