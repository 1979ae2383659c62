// The HTTP face of sessiongraph: GraphQL (with offline GraphiQL) at /graphql, liveness at /healthz,
// readiness at /readyz, one JSON log line per request. `createApp` is what tests drive through
// `yoga.fetch`; `startHttpServer` puts it on a port and knows how to stop gracefully.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useDisableIntrospection } from '@envelop/disable-introspection';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { useApolloInlineTrace } from '@graphql-yoga/plugin-apollo-inline-trace';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { createYoga, type GraphiQLOptions, type YogaServerInstance } from 'graphql-yoga';
import { ConfigError, type Config } from './config.js';
import { authenticate } from './auth/caller.js';
import type { Context } from './context.js';
import type { Database } from './db/database.js';
import { bodyLimitPlugin } from './http/body-limit.js';
import { csrfPreventionPlugin } from './http/csrf.js';
import { errorCodesPlugin } from './http/error-codes.js';
import { nulCharacterPlugin } from './http/nul-characters.js';
import { clientAddress, createLimiter } from './http/rate-limits.js';
import { requestLogPlugin } from './http/request-log.js';
import { routesPlugin } from './http/routes.js';
import { signedOperationLimitPlugin } from './http/signed-operations.js';
import { createLoaders } from './loaders.js';
import type { Logger } from './logger.js';
import type { RateLimitStore } from './rate-limit.js';
import { schema } from './schema/index.js';

export const exampleQuery = `# sessiongraph: Grid, Kratos and Clerk sessions
# in one schema.
#
# Reading needs credentials. Open "Headers" below:
#   {"Authorization": "Basic <base64 of admin:SECRET>"}
# (an API token; see the README), or
#   {"Authorization": "Bearer <session token>"}
# (a session, which sees only its own data).
#
# Any object by its id: node(id: "Type:<uuid>").
query RecentSessions {
  sessions(first: 5) {
    totalCount
    edges {
      node {
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
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
`;

export interface AppDependencies {
  db: Database;
  logger: Logger;
  config: Pick<Config, 'env' | 'auth' | 'limits' | 'graphiql' | 'introspection' | 'batchLimit' | 'trustProxy'>;
  /** Where rate-limit counters live (memory or Redis). */
  rateLimits: RateLimitStore;
  /** The clock resolvers see (tests move it); the system clock by default. */
  now?: () => Date;
}

/** What Node's HTTP server hands Yoga with each request. */
export interface ServerContext {
  req?: IncomingMessage;
}

export type App = YogaServerInstance<ServerContext, Context>;

let graphiqlHtml: string | undefined;
function graphiqlPage(options?: GraphiQLOptions): string {
  return (graphiqlHtml ??= renderGraphiQL(options));
}

export function createApp({ db, logger, config, rateLimits, now = () => new Date() }: AppDependencies): App {
  const requestIds = new WeakMap<Request, string>();
  const limiter = createLimiter(rateLimits, config.limits);
  const production = config.env === 'production';
  const { limits } = config;
  const armor = new EnvelopArmor({
    // Limit details help while writing queries; in production they only help an attacker.
    maxDepth: { n: limits.maxDepth, exposeLimits: !production, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: !production },
    maxTokens: { n: limits.maxTokens, exposeLimits: !production },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: !production },
    costLimit: { maxCost: limits.maxCost, exposeLimits: !production, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: production },
  }).protect();

  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // GraphiQL with its assets inlined (9 MB, rendered once): it works with no network.
    renderGraphiQL: graphiqlPage,
    graphiql: config.graphiql ? { title: 'sessiongraph', defaultQuery: exampleQuery } : false,
    batching: config.batchLimit > 0 ? { limit: config.batchLimit } : false,
    logging: false,
    // Outside development a client never sees a stack, SQL or an internal message.
    maskedErrors: { isDev: config.env === 'development' },
    context: async ({ request, req }) => {
      const address = clientAddress(request, req, config.trustProxy);
      await limiter.beforeAuthentication(address);
      const loaders = createLoaders(db.prisma);
      let caller;
      try {
        caller = await authenticate(request.headers.get('authorization'), {
          prisma: db.prisma,
          loaders,
          adminToken: config.auth.adminToken,
          now: now(),
        });
      } catch (error) {
        // Count wrong credentials, not a database that failed to answer.
        if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') await limiter.authenticationFailed(address);
        throw error;
      }
      return {
        prisma: db.prisma,
        loaders,
        logger,
        requestId: requestIds.get(request) ?? randomUUID(),
        caller,
        auth: config.auth,
        limiter,
        maxPageSize: limits.maxPageSize,
        now,
      };
    },
    plugins: [
      requestLogPlugin(logger, requestIds),
      routesPlugin(db),
      bodyLimitPlugin(limits.maxRequestBodyBytes),
      csrfPreventionPlugin(),
      ...armor.plugins,
      ...(config.introspection ? [] : [useDisableIntrospection()]),
      errorCodesPlugin(),
      nulCharacterPlugin(),
      signedOperationLimitPlugin(),
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
      reject(new ConfigError('PORT', problem));
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
