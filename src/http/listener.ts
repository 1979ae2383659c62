// The HTTP listener and its graceful stop, apart from the GraphQL app so that the server can listen
// (and answer /healthz) before the app's modules load: it needs Node's own modules alone.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';
import { logRequest, requestIdFor } from './request-id.js';

/** Liveness: the process is up. The app answers it (http/routes.ts), and the listener before the app exists. */
export const livenessPath = '/healthz';
export const livenessAnswer = { status: 'ok' } as const;

/** Answers a liveness request from the listener itself, as the app would; false for any other request. */
export function answerLiveness(req: IncomingMessage, res: ServerResponse, logger: Logger): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (path !== livenessPath) return false;
  const startedAt = performance.now();
  const given = req.headers['x-request-id'];
  const requestId = requestIdFor(typeof given === 'string' ? given : undefined);
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId }).end(JSON.stringify(livenessAnswer));
  logRequest(logger, { requestId, method: req.method ?? 'GET', path, status: 200, startedAt });
  return true;
}

export interface RunningServer {
  server: Server;
  url: string;
  /**
   * Lets every request already sent finish (up to the timeout) — those in progress, and those
   * the server has not read yet — then stops listening and closes the connections.
   */
  stop(): Promise<void>;
}

/** How long a stopping server must have had no request before it stops listening. */
const quietMs = 300;

/** What answers a request: an app, or something that picks one. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Listens on host:port. Failing to listen rejects with a ConfigError naming `variable`; an error
 * after that (an accept that failed: EMFILE when out of file descriptors) is logged, and the
 * server goes on listening — Node would otherwise end the process on an unheard 'error'.
 */
export async function listen(server: Server, options: { host: string; port: number; variable: string; logger: Logger }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) => {
      const problem =
        error.code === 'EADDRINUSE'
          ? `${options.port} is already in use by another process`
          : error.code === 'EACCES'
            ? `${options.port} needs privileges this process does not have`
            : error.message;
      reject(new ConfigError(options.variable, problem));
    };
    server.once('error', refuse);
    server.listen(options.port, options.host, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  server.on('error', (error: NodeJS.ErrnoException) =>
    options.logger.error('the listener failed to take a connection; it goes on listening', { variable: options.variable, code: error.code, error: error.message }),
  );
}

export async function startHttpServer(
  app: RequestHandler,
  options: { host: string; port: number; shutdownTimeoutMs: number; logger: Logger },
): Promise<RunningServer> {
  // Requests in progress per connection. One with none may still carry a request we have not read:
  // closing it at once would reset the client.
  const connections = new Map<Socket, { active: number }>();
  let stopping = false;
  let lastRequestAt = 0;
  const server = createServer((req, res) => {
    const state = connections.get(req.socket);
    if (state) state.active++;
    lastRequestAt = Date.now();
    if (stopping) res.setHeader('connection', 'close');
    res.on('close', () => {
      if (!state) return;
      state.active--;
      if (stopping && state.active === 0) req.socket.destroySoon();
    });
    void app(req, res);
  });
  server.on('connection', (socket) => {
    connections.set(socket, { active: 0 });
    socket.on('close', () => connections.delete(socket));
  });
  await listen(server, { host: options.host, port: options.port, variable: 'PORT', logger: options.logger });
  const address = server.address() as AddressInfo;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  let stopped: Promise<void> | undefined;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        stopping = true;
        lastRequestAt = Date.now();
        // Requests clients already sent may still wait in the kernel's accept queue or unread on a
        // connection: closing the listener now would reset them. So the server keeps answering
        // (with Connection: close) until it has been quiet for a moment, then stops listening and
        // lets the idle connections go.
        const quiet = setInterval(() => {
          const busy = [...connections.values()].some((state) => state.active > 0);
          if (busy || Date.now() - lastRequestAt < quietMs) return;
          clearInterval(quiet);
          server.close(() => {
            clearTimeout(deadline);
            resolve();
          });
          for (const [socket, state] of connections) if (state.active === 0) socket.destroy();
        }, 50);
        const deadline = setTimeout(() => {
          clearInterval(quiet);
          server.close(() => resolve());
          server.closeAllConnections();
        }, options.shutdownTimeoutMs);
        deadline.unref();
      })),
  };
}
