// The HTTP face of sessiongraph: GraphQL (with offline GraphiQL) at /graphql, liveness at /healthz,
// readiness at /readyz, one JSON log line per request. `createApp` is what tests drive through
// `yoga.fetch`; `startHttpServer` (http/listener.ts) puts it on a port and knows how to stop gracefully.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { useDisableIntrospection } from '@envelop/disable-introspection';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { useApolloInlineTrace } from '@graphql-yoga/plugin-apollo-inline-trace';
import { GraphQLError, Kind, visit, type DocumentNode, type ValidationContext } from 'graphql';
import { pageBounds } from './domain/pagination.js';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { defaultVendorRoutes, type Config } from './config.js';
import { EventFeed } from './events/feed.js';
import { createSessionTokens, type SessionTokens } from './tokens/session-tokens.js';
import { EventThrottle } from './events/throttle.js';
import { apiTokenId, authenticate, countsAsFailedAuthentication, opaqueSessionToken, requestCredentials, type PendingSession } from './auth/caller.js';
import { sha256 } from './auth/secrets.js';
import type { Context } from './context.js';
import { DatabaseOpening, type Database } from './db/database.js';
import { eventStreamPlugin } from './http/event-stream.js';
import { plannedReadsPlugin, wantsResolverTrace, type PlannedReadHint } from './http/planned-reads.js';
import { plannedWritesPlugin, type PlannedWriteHint } from './http/planned-writes.js';
import { requestParsingPlugin } from './http/request-parsing.js';
import { csrfPreventionPlugin } from './http/csrf.js';
import { errorCodesPlugin } from './http/error-codes.js';
import { graphiqlPagePlugin, renderGraphiqlPage } from './http/graphiql-page.js';
import { inputChecksPlugin } from './http/input-checks.js';
import { clientAddressResolver } from './http/client-address.js';
import { createLimiter } from './limiter.js';
import { RecentChallenges } from './revocation/recent-challenges.js';
import { createMetrics, type Metrics } from './metrics.js';
import { metricsPlugin } from './http/metrics.js';
import { requestLog } from './http/request-log.js';
import { routesPlugin } from './http/routes.js';
import { vendorRoutesPlugin } from './http/vendor-routes.js';
import { vendorRoutes } from './vendors/index.js';
import { subgraphSchemaAccessPlugin } from './http/schema-access.js';
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
  config: Pick<Config, 'env' | 'auth' | 'limits' | 'graphiql' | 'introspection' | 'batchLimit' | 'trustProxy' | 'events' | 'plannedReads' | 'plannedWrites' | 'webhooks'> & Partial<Pick<Config, 'metricsPort' | 'vendors'>>;
  /** Where rate-limit counters live (memory or Redis). */
  rateLimits: RateLimitStore;
  /** The clock resolvers see (tests move it); the system clock by default. */
  now?: () => Date;
  /** Where this server counts (new ones by default). */
  metrics?: Metrics;
  /** The live event feed (one that hears only this process's commits by default). */
  events?: EventFeed;
  /** Session tokens, prepared by the caller (made over `db` and the feed when absent and configured). */
  tokens?: SessionTokens;
  /** Traces each request (http/opentelemetry.ts), when tracing is configured. */
  tracing?: Plugin;
}

/** What Node's HTTP server hands Yoga with each request. */
export interface ServerContext {
  req?: IncomingMessage;
}

export type App = YogaServerInstance<ServerContext, Context>;

/** Throws pageBounds' own error for a page literal (`first: 100000`) over the maximum. */
function refuseLiteralPageSizes(document: DocumentNode, maxPageSize: number): void {
  visit(document, {
    Field(field) {
      const literal = (name: string) => {
        const argument = field.arguments?.find((a) => a.name.value === name);
        return argument?.value.kind === Kind.INT ? Number(argument.value.value) : undefined;
      };
      pageBounds({ first: literal('first'), last: literal('last') }, maxPageSize);
    },
  });
}

export function createApp({ db, logger, config, rateLimits, now = () => new Date(), metrics = createMetrics(), events, tokens: given, tracing }: AppDependencies): App {
  const feed = events ?? new EventFeed(db, { ...config.events, logger });
  const tokens = given ?? createSessionTokens(db.prisma, config.auth.tokens, { feed, logger, now, read: db.read });
  const log = requestLog(logger);
  const limiter = createLimiter(rateLimits, config.limits, metrics, logger);
  metrics.watchPool(() => db.poolStats());
  metrics.watchSubscriptions(() => feed.clientSize);
  const clientAddress = clientAddressResolver(config.trustProxy);
  const eventThrottle = new EventThrottle(config.events.activityIntervalMs);
  const recentChallenges = new RecentChallenges();
  const webhooks = { keySecret: config.auth.tokens.keySecret, allowPrivate: config.webhooks.allowPrivate };
  const production = config.env === 'production';
  const { limits } = config;
  // A query over a limit is refused with a code and, outside production, the numbers.
  const refuse = (limit: string, variable: string) => ({
    exposeLimits: !production,
    propagateOnRejection: true,
    onReject: [
      (_context: unknown, error: GraphQLError) => {
        const detail = production ? `Query exceeds the ${limit} limit (${variable})` : error.message.replace(/^Syntax Error: /, '');
        throw new GraphQLError(detail, { extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: variable, http: { status: 400 } } });
      },
    ],
  });
  const costRefusal = refuse('cost', 'MAX_COST');
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...refuse('depth', 'MAX_DEPTH') },
    maxAliases: { n: limits.maxAliases, ...refuse('aliases', 'MAX_ALIASES') },
    maxTokens: { n: limits.maxTokens, ...refuse('token', 'MAX_TOKENS') },
    maxDirectives: { n: limits.maxDirectives, ...refuse('directives', 'MAX_DIRECTIVES') },
    costLimit: {
      maxCost: limits.maxCost,
      ignoreIntrospection: true,
      ...costRefusal,
      // The cost counts a page by its `first` / `last`: an over-large page is refused as the page
      // argument it is (naming the argument and the maximum), not as a cost.
      onReject: [(context: ValidationContext | null, error: GraphQLError) => {
        if (context) refuseLiteralPageSizes(context.getDocument(), limits.maxPageSize);
        costRefusal.onReject[0]!(context, error);
      }],
    },
    blockFieldSuggestion: { enabled: production },
  }).protect();

  const sessionCookie = config.auth.sessionCookie;
  /** A request's context — caller, loaders, limits — for GraphQL and the vendor routes alike. */
  const buildContext = async (request: Request, req: IncomingMessage | undefined, credentials: { authorization: string | null }, plannedRead: boolean): Promise<Context> => {
    const address = clientAddress(request, req);
    const { authorization } = credentials;
    const tokenId = apiTokenId(authorization);
    const loaders = createLoaders(db.prisma);
    const authenticateRequest = async () => {
      try {
        return await authenticate(authorization, {
          prisma: db.prisma,
          read: db.read,
          loaders,
          adminToken: config.auth.adminToken,
          tokens,
          now: now(),
        });
      } catch (error) {
        // Count credentials that could be guesses: not a database that failed to answer, nor a
        // token of ours whose session has ended.
        if (error instanceof GraphQLError && countsAsFailedAuthentication(error)) {
          throw await limiter.authenticationFailed(address, tokenId, error);
        }
        throw error;
      }
    };
    const pendingToken = plannedRead ? opaqueSessionToken(authorization) : undefined;
    const pendingSession: PendingSession | undefined = pendingToken ? { tokenHash: sha256(pendingToken), authenticate: authenticateRequest } : undefined;
    const caller = pendingSession ? null : await authenticateRequest();
    return {
      prisma: db.prisma,
      loaders,
      logger,
      requestId: log.requestId(request) ?? randomUUID(),
      caller,
      pendingSession,
      auth: config.auth,
      limiter,
      metrics,
      tokens,
      maxPageSize: limits.maxPageSize,
      now,
      clientAddress: address,
      readQuery: db.read,
      transaction: (work) => db.transaction(work),
      oneConnection: db.oneConnection,
      eventThrottle,
      recentChallenges,
      events: feed,
      eventSettings: config.events,
      lastEventId: request.headers.get('last-event-id') ?? undefined,
      webhooks,
    };
  };
  const vendors = config.vendors ?? defaultVendorRoutes;

  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Any page may read what it can ask for without cookies; only the listed origins may call with
    // the session cookie (a browser sends it cross-origin only when the answer allows credentials).
    cors: config.auth.credentialedOrigins.length > 0 ? { origin: config.auth.credentialedOrigins, credentials: true } : { credentials: false },
    // GraphiQL with its assets inlined (9 MB, rendered once): it works with no network.
    renderGraphiQL: renderGraphiqlPage,
    graphiql: config.graphiql ? { title: 'sessiongraph', defaultQuery: exampleQuery } : false,
    batching: config.batchLimit > 0 ? { limit: config.batchLimit } : false,
    // requestParsingPlugin enforces MAX_REQUEST_BODY_BYTES (a declared length before reading, a
    // chunked body while reading). Yoga's own limit would pipe every body through a web
    // TransformStream as well, with a pipeline and an abort signal each: a fifth of a small
    // request's CPU.
    maxRequestBodySize: false,
    logging: false,
    // Outside development a client never sees a stack, SQL or an internal message.
    maskedErrors: { isDev: config.env === 'development', maskError: log.maskError },
    context: (initial) => {
      const { request, req } = initial;
      // A query the planner answers, or a mint it writes, checks an opaque session token in its own statement.
      const hint = initial as PlannedReadHint & PlannedWriteHint;
      const planned =
        ((config.plannedReads && Boolean(hint.plannedReadExpected)) || (config.plannedWrites && Boolean(hint.plannedWriteChecksSession))) && !wantsResolverTrace(request);
      return buildContext(request, req, requestCredentials(request.headers, sessionCookie), planned);
    },
    plugins: [
      ...(tracing ? [tracing] : []),
      ...(config.graphiql ? [graphiqlPagePlugin()] : []),
      log.plugin,
      metricsPlugin(metrics, {
        callerOf: async (request, req) => (await buildContext(request, req, { authorization: request.headers.get('authorization') }, false)).caller,
        serve: config.metricsPort === undefined,
      }),
      routesPlugin(db, rateLimits, logger, tokens?.keys),
      ...(vendors.enabled ? [vendorRoutesPlugin(vendorRoutes(vendors, { logger, sessionCookie, maxBodyBytes: limits.maxRequestBodyBytes }), buildContext)] : []),
      requestParsingPlugin(limits.maxRequestBodyBytes),
      csrfPreventionPlugin(sessionCookie),
      ...armor.plugins,
      ...(config.introspection ? [] : [useDisableIntrospection(), subgraphSchemaAccessPlugin()]),
      errorCodesPlugin({ hideSuggestions: production }),
      inputChecksPlugin(limits),
      signedOperationLimitPlugin(),
      eventStreamPlugin(config.events.heartbeatMs),
      // Apollo federated tracing: adds extensions.ftv1 only when a gateway asks for it.
      useApolloInlineTrace(),
      ...(config.plannedReads ? [plannedReadsPlugin()] : []),
      ...(config.plannedWrites ? [plannedWritesPlugin()] : []),
    ],
  });
}

/**
 * A database that is not open yet: what an app answering only schema requests runs on while the
 * real one opens. Any use is refused with `refusal()` — for an anonymous caller, the same error
 * reading data would get anyway.
 */
export function unopenedDatabase(refusal: () => Error): Database {
  const prisma = new Proxy({}, { get: () => { throw refusal(); } }) as Database['prisma'];
  return {
    prisma,
    adapterFactory: new Proxy({}, { get: () => { throw refusal(); } }) as Database['adapterFactory'],
    description: 'opening',
    oneConnection: false,
    ping: () => Promise.reject(new DatabaseOpening()),
    read: () => Promise.reject(refusal()),
    transaction: () => Promise.reject(refusal()),
    poolStats: () => undefined,
    close: () => Promise.resolve(),
  };
}
