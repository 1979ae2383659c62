// The HTTP face of sessiongraph: GraphQL (with offline GraphiQL) at /graphql, liveness at /healthz,
// readiness at /readyz, one JSON log line per request. `createApp` is what tests drive through
// `yoga.fetch`; `startHttpServer` puts it on a port and knows how to stop gracefully.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useApolloInlineTrace } from '@graphql-yoga/plugin-apollo-inline-trace';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, visit } from 'graphql';
import { createYoga, type GraphiQLOptions, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Config } from './config.js';
import { authenticate } from './auth/caller.js';
import type { Context } from './context.js';
import type { Database } from './db/database.js';
import { createLoaders } from './loaders.js';
import type { Logger } from './logger.js';
import { schema } from './schema/index.js';

export const exampleQuery = `# Welcome to sessiongraph: sessions from Grid, Kratos and Clerk in one schema.
# Reading needs credentials: open "Headers" below and paste
#   { "Authorization": "Basic <base64 of admin:SECRET>" }   (an API token; see the README)
#   { "Authorization": "Bearer <session token>" }           (a session: sees only its own data)
# Then paste an id from your data below, or ask for any object with node(id: "Type:<uuid>").
query SessionWithDevices($id: ID! = "Session:019542f5-b3e7-1d02-0000-000000000003") {
  session(id: $id) {
    id
    status
    active
    type
    nickname
    expiresAt
    identity {
      id
      traits
    }
    devices {
      userAgent
      ipAddress
      location
      lastSeenAt
    }
  }
}
`;

export interface AppDependencies {
  db: Database;
  logger: Logger;
  config: Pick<Config, 'env' | 'auth'>;
  /** The clock resolvers see (tests move it); the system clock by default. */
  now?: () => Date;
}

export type App = YogaServerInstance<Record<string, never>, Context>;

const requestIdPattern = /^[\w.:-]{1,128}$/;

function requestLogPlugin(logger: Logger, requestIds: WeakMap<Request, string>): Plugin<Context> {
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

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions?.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/**
 * Gives every error a code in extensions.code, as clients switch on it: a query that does not fit
 * the schema is GRAPHQL_VALIDATION_FAILED; a variable of the wrong type or an unknown enum value
 * is BAD_USER_INPUT, like the checks our resolvers make.
 */
function errorCodesPlugin(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || !result.errors?.length) return;
          setResult({
            ...result,
            errors: result.errors.map((error) =>
              !error.path && error.message.startsWith('Variable "$') ? withCode(error, 'BAD_USER_INPUT') : error,
            ),
          });
        },
      };
    },
  };
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([key, item]) => key.includes('\u0000') || containsNul(item));
  }
  return false;
}

/**
 * PostgreSQL cannot store U+0000 in text or JSON; a string carrying one would fail deep in a query.
 * Refuse it up front, naming the problem, whether it came in a variable or a literal.
 */
function nulCharacterPlugin(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let literal = false;
      visit(args.document, {
        StringValue(node) {
          if (node.value.includes('\u0000')) literal = true;
        },
      });
      if (literal || containsNul(args.variableValues)) {
        setResultAndStopExecution({
          errors: [new GraphQLError('Strings must not contain the NUL character (U+0000)', { extensions: { code: 'BAD_USER_INPUT' } })],
        });
      }
    },
  };
}

function routesPlugin(db: Database): Plugin {
  return {
    async onRequest({ url, endResponse }) {
      if (url.pathname === '/') {
        endResponse(new Response(null, { status: 302, headers: { location: '/graphql' } }));
      } else if (url.pathname === '/healthz') {
        endResponse(Response.json({ status: 'ok' }));
      } else if (url.pathname === '/readyz') {
        try {
          await db.ping();
          endResponse(Response.json({ status: 'ok', database: 'ok' }));
        } catch (error) {
          endResponse(
            Response.json(
              { status: 'unavailable', database: (error as Error).message },
              { status: 503 },
            ),
          );
        }
      }
    },
  };
}

let graphiqlHtml: string | undefined;
function graphiqlPage(options?: GraphiQLOptions): string {
  return (graphiqlHtml ??= renderGraphiQL(options));
}

export function createApp({ db, logger, config, now = () => new Date() }: AppDependencies): App {
  const requestIds = new WeakMap<Request, string>();
  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // GraphiQL with its assets inlined (9 MB, rendered once): it works with no network.
    renderGraphiQL: graphiqlPage,
    graphiql: { title: 'sessiongraph', defaultQuery: exampleQuery },
    logging: false,
    maskedErrors: { isDev: config.env === 'development' },
    context: async ({ request }) => ({
      prisma: db.prisma,
      loaders: createLoaders(db.prisma),
      logger,
      requestId: requestIds.get(request) ?? randomUUID(),
      caller: await authenticate(request.headers.get('authorization'), {
        prisma: db.prisma,
        adminToken: config.auth.adminToken,
        now: now(),
      }),
      auth: config.auth,
      now,
    }),
    plugins: [
      requestLogPlugin(logger, requestIds),
      routesPlugin(db),
      errorCodesPlugin(),
      nulCharacterPlugin(),
      // Apollo federated tracing: adds extensions.ftv1 only when a gateway asks for it.
      useApolloInlineTrace(),
    ],
  });
}

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting connections, waits for in-flight requests (up to the timeout), then resolves. */
  stop(): Promise<void>;
}

export class PortError extends Error {}

export async function startHttpServer(
  app: App,
  options: { host: string; port: number; shutdownTimeoutMs: number },
): Promise<RunningServer> {
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const server = createServer((req, res) => {
    inFlight++;
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    void app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const problem =
        error.code === 'EADDRINUSE'
          ? `${options.port} is already in use by another process`
          : error.code === 'EACCES'
            ? `${options.port} needs privileges this process does not have`
            : error.message;
      reject(new PortError(problem));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  let stopping: Promise<void> | undefined;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections with no request in progress would hold close() open forever.
        server.closeIdleConnections();
        const finish = () => {
          clearTimeout(timer);
          server.closeAllConnections();
        };
        const timer = setTimeout(finish, options.shutdownTimeoutMs);
        timer.unref();
        if (inFlight === 0) finish();
        else drained = finish;
      })),
  };
}
