// The server process: configuration → database (migrated) → GraphQL server, and a graceful stop on
// SIGTERM/SIGINT. A startup problem is one line on stderr and exit code 1.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { Database } from './db/database.js';
import type { EmbeddedStart } from './db/embedded-start.js';
import type { EventFeed, EventSignals } from './events/feed.js';
import { nextTurn } from './next-turn.js';
import type { WebSocketEndpoint } from './http/websocket.js';
import { answerLiveness, listen, startHttpServer, type RequestHandler, type RunningServer } from './http/listener.js';
import { createLogger, type Logger } from './logger.js';
import type { Tracing } from './http/opentelemetry.js';
import type { Metrics } from './metrics.js';
import type { RateLimitStore } from './rate-limit.js';
import type { App } from './server.js';
import type { WebhookRuntime } from './webhooks/index.js';

/** METRICS_PORT: the metrics alone, on a port of their own (for a scraper on a private network). */
async function serveMetrics(metrics: Metrics, host: string, port: number, logger: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await listen(server, { host, port, variable: 'METRICS_PORT', logger });
  return server;
}

/** How instances tell each other of new events: Redis when configured, else LISTEN/NOTIFY on PostgreSQL. */
async function eventSignals(config: Config, logger: Logger): Promise<EventSignals | undefined> {
  if (config.redisUrl) return (await import('./events/signals.js')).redisSignals(config.redisUrl, logger);
  if (config.database.kind === 'postgres') return (await import('./events/signals.js')).postgresSignals(config.database.url, logger);
  return undefined; // the embedded database has one instance: its own commits are all there are
}

/** The server's lower layers, loaded one by one before the rest (see main). */
const loadingLayers = [
  () => import('./builder.js'), // Pothos and its plugins, graphql-js, the Prisma client's types
  () => import('./schema/index.js'), // builds the schema
  () => import('graphql-yoga'),
];

/**
 * How long a stop on PostgreSQL may take: webhook attempts in flight get 2 s (webhooks/worker.ts),
 * requests in flight SHUTDOWN_TIMEOUT_MS, and the rest as long again. Each step may wait on the
 * database, and a statement waiting on a lock another application holds would hold it for ever.
 */
const stopBudgetMs = (config: Config) => 2000 + 2 * config.shutdownTimeoutMs;

function fail(message: string): never {
  process.stderr.write(`sessiongraph: ${message}\n`);
  process.exit(1);
}

/** What main.ts did before this module loaded: the configuration read, and the embedded database's first steps taken (or their failure, reported here once the server listens, as it would have been had they been taken here). */
export interface EarlyStart {
  config: Config;
  embedded?: EmbeddedStart;
  embeddedFailure?: unknown;
}

async function main(early: EarlyStart | undefined): Promise<void> {
  const config = early?.config ?? loadConfig();
  const logger = createLogger(config.logLevel);
  const startedAt = performance.now();
  // One listener for the process's life: removed and added again, a signal that arrived between
  // the two would be lost. A stop asked for while the server starts is carried out once it has
  // started (or failed to): the database is closed as on any stop, rather than the process ended
  // mid-write by the signal. Asked twice while starting, the process ends at once.
  let stop: ((signal: string) => void) | undefined;
  let stopAsked: string | undefined;
  const onSignal = (signal: string) => {
    if (stop) return stop(signal);
    if (stopAsked) {
      logger.warn('stopped while starting', { signal });
      process.exit(1);
    }
    stopAsked = signal;
    logger.info('stopping once started', { signal });
  };
  process.on('SIGTERM', onSignal).on('SIGINT', onSignal);

  // The server listens first, before its modules load (the larger part of a start): /healthz — the
  // process is up — is answered by the listener itself, every other request waits for the handler
  // set below, and WebSocket upgrades for their endpoint. Then the database opens while the schema
  // is built (the embedded one on a thread of its own, a new directory's copy on another). Until the database is
  // open, requests without credentials — which can read nothing but the schema — are answered by
  // an app on a database that refuses every use (as it would refuse an anonymous caller anyway);
  // requests with credentials, the JWKS and the metrics wait.
  let handler: RequestHandler | undefined;
  let handlerSet!: () => void;
  const whenHandler = new Promise<void>((resolve) => (handlerSet = resolve));
  const earlyUpgrades: [IncomingMessage, Duplex, Buffer][] = [];
  const holdUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void earlyUpgrades.push([req, socket, head]);
  let schemaOnly: RequestHandler | undefined;
  let app: RequestHandler | undefined;
  let graphqlApp: App | undefined;
  let events: EventFeed | undefined;
  let webSockets: WebSocketEndpoint | undefined;
  let webhooks: WebhookRuntime | undefined;
  let opened!: () => void;
  const whenOpen = new Promise<void>((resolve) => (opened = resolve));
  const waitsForDatabase = (url = '') => /^\/(\.well-known\/jwks\.json|metrics)\b/.test(url);
  let running: RunningServer | undefined;
  let opening: Promise<Database> | undefined;
  let db: Database | undefined;
  let rateLimits: RateLimitStore | undefined;
  let metricsServer: Server | undefined;
  let metrics: Metrics;
  let tracing: Tracing | undefined;
  let startMaintenance: typeof import('./maintenance.js').startMaintenance;
  let embedded = early?.embedded;
  try {
    running = await startHttpServer((req, res) => {
      if (handler) return handler(req, res);
      if (answerLiveness(req, res, logger)) return;
      return whenHandler.then(() => handler!(req, res));
    }, { host: config.host, port: config.port, shutdownTimeoutMs: config.shutdownTimeoutMs, logger });
    running.server.on('upgrade', holdUpgrade);
    logger.info('sessiongraph listening', { url: `${running.url}/graphql`, startupMs: Math.round(performance.now() - startedAt) });
    // The embedded database next, unless main.ts has started it: its thread starts PostgreSQL beside the loading of everything below.
    if (early?.embeddedFailure) throw early.embeddedFailure;
    if (config.database.kind === 'pglite') embedded ??= (await import('./db/embedded-start.js')).startEmbeddedDatabase(config.database);
    embedded?.onWarning((warning) => logger.warn(warning.message, { error: warning.error }));
    // The modules load layer by layer, the event loop turning between layers (the log line above
    // goes out, /healthz is answered): a module graph is evaluated in one piece, and in one import
    // the loop would wait about a second.
    await nextTurn();
    const [{ openDatabase }, { createMetrics }] = await Promise.all([import('./db/database.js'), import('./metrics.js')]);
    metrics = createMetrics();
    opening = openDatabase(config.database, { onStatement: (seconds) => metrics.statementDuration.observe(seconds), started: embedded });
    opening.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
    for (const layer of loadingLayers) {
      await nextTurn();
      await layer();
    }
    await nextTurn();
    const [server, guards, rateLimit, webSocket, migrations, adminToken, keySecret, sessionTokens, feed, webhookRuntime, maintenance, telemetry] = await Promise.all([
      import('./server.js'),
      import('./auth/guards.js'),
      import('./rate-limit.js'),
      import('./http/websocket.js'),
      import('./db/migrations.js'),
      import('./auth/admin-token.js'),
      import('./tokens/key-secret.js'),
      import('./tokens/session-tokens.js'),
      import('./events/feed.js'),
      import('./webhooks/index.js'),
      import('./maintenance.js'),
      // OpenTelemetry is loaded only when an OTLP endpoint is configured: otherwise not one module of it.
      config.tracing ? import('./http/opentelemetry.js') : undefined,
    ]);
    startMaintenance = maintenance.startMaintenance;
    tracing = config.tracing ? telemetry?.startTracing(config.tracing, logger) : undefined;
    schemaOnly = server.createApp({
      db: server.unopenedDatabase(guards.authenticationRequired),
      logger,
      config: { ...config, auth: { ...config.auth, tokens: { ...config.auth.tokens, keySecret: undefined } } },
      rateLimits: rateLimit.memoryStore(),
      metrics,
      tracing: tracing?.plugin,
    });
    handler = (req, res) => {
      if (app) return app(req, res);
      if (!req.headers.authorization && !waitsForDatabase(req.url)) return schemaOnly!(req, res);
      return whenOpen.then(() => app!(req, res));
    };
    handlerSet();
    // WebSocket subscriptions authenticate, so they wait for the database like other credentials.
    webSockets = webSocket.attachWebSockets(running.server, () => whenOpen.then(() => graphqlApp!), {
      heartbeatMs: config.events.heartbeatMs,
      idleMs: config.events.idleMs,
      maxPayloadBytes: config.limits.maxRequestBodyBytes,
      production: config.env === 'production',
    });
    running.server.off('upgrade', holdUpgrade);
    for (const upgrade of earlyUpgrades.splice(0)) running.server.emit('upgrade', ...upgrade);
    db = await opening;
    const applied = await migrations.applyMigrations(db.adapterFactory);
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
    await adminToken.ensureAdminToken(db.prisma, config, logger);
    // Settled once here (generated on the embedded database if need be), then read like any setting.
    config.auth.tokens.keySecret = keySecret.resolveTokenKeySecret(config, logger);
    rateLimits = await rateLimit.openRateLimitStore(config.redisUrl, logger);
    events = new feed.EventFeed(db, { ...config.events, logger }, await eventSignals(config, logger));
    // The feed's first read runs beside the first requests too: a subscription waits for it (and
    // committed events are read from where it starts), nothing else does.
    const feedStarting = events.start();
    feedStarting.catch(() => {}); // awaited below
    // The signing keys (and each algorithm's next key) and the revocation set, made and loaded
    // beside the first requests: the JWKS and JWT requests wait for them, nothing else does.
    const tokens = sessionTokens.createSessionTokens(db.prisma, config.auth.tokens, { feed: events, logger, now: () => new Date(), read: db.read });
    tokens?.prepare().catch((error: unknown) => logger.warn('session tokens not prepared yet; trying again on first use', { error: (error as Error).message }));
    app = graphqlApp = server.createApp({ db, logger, config, rateLimits, metrics, events, tokens, tracing: tracing?.plugin });
    schemaOnly = undefined; // its own Yoga instance and caches are garbage from here on
    opened();
    await feedStarting;
    webhooks = await webhookRuntime.startWebhooks({ prisma: db.prisma, feed: events, config, keySecret: config.auth.tokens.keySecret, logger, metrics });
    if (config.metricsPort !== undefined) metricsServer = await serveMetrics(metrics, config.metricsHost, config.metricsPort, logger);
  } catch (error) {
    // Failed before the app existed: the requests waiting for it are answered (503) and the held
    // upgrades dropped, or the stop below would wait for them for ever.
    if (!handler) {
      handler = (_req, res) => void res.writeHead(503, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ status: 'unavailable' }));
      handlerSet();
    }
    running?.server.off('upgrade', holdUpgrade);
    for (const [, socket] of earlyUpgrades.splice(0)) socket.destroy();
    metricsServer?.close();
    await webhooks?.stop();
    await events?.close();
    await webSockets?.close();
    await running?.stop();
    await rateLimits?.close();
    if (opening) await (db ?? (await opening.catch(() => undefined)))?.close();
    else await embedded?.abandon();
    throw error;
  }
  const maintenance = startMaintenance(db, config, logger, events);
  // What shutdown closes (settled now; the closure below would not see them narrowed).
  const live = { running, db, rateLimits, events: events!, webSockets: webSockets!, webhooks: webhooks! };
  logger.info('sessiongraph ready', {
    url: `${live.running.url}/graphql`,
    ...(metricsServer ? { metrics: `http://${config.metricsHost}:${(metricsServer.address() as AddressInfo).port}/metrics` } : {}),
    database: db.description,
    startupMs: Math.round(performance.now() - startedAt),
  });

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { signal });
    let step = 'webhooks';
    // Past the budget the process stops without the step it waits for: a statement still waiting
    // commits whole or not at all on PostgreSQL's side, once the lock it waits for is free, and holds
    // its locks and connection slot until then. The embedded database is always closed to the end.
    if (config.database.kind === 'postgres') {
      const budgetMs = stopBudgetMs(config);
      setTimeout(() => {
        logger.warn('the stop did not finish in time: a step still waits on the database (a lock held elsewhere?); stopping without it', { step, budgetMs });
        process.exit(0);
      }, budgetMs).unref();
    }
    // Webhooks stop first: attempts in flight get a moment, the rest are handed back for the
    // next instance. Live streams end next (clients resume elsewhere from their last event id),
    // so the server's wait for requests in progress is not a wait for subscriptions that never end.
    await live.webhooks.stop();
    step = 'live streams';
    await live.events.close();
    await live.webSockets.close();
    step = 'requests in flight';
    await live.running.stop();
    metricsServer?.close();
    step = 'maintenance';
    await maintenance.stop();
    await live.rateLimits.close();
    step = 'closing the database';
    await live.db.close();
    await tracing?.shutdown().catch(() => {});
    logger.info('stopped');
    process.exit(0);
  };
  stop = (signal) => void shutdown(signal);
  if (stopAsked) void shutdown(stopAsked);
}

/** Runs the server until SIGTERM or SIGINT; a startup problem ends the process with one line on stderr. */
export function startServer(early?: EarlyStart): void {
  main(early).catch((error: unknown) => {
    if (error instanceof ConfigError) fail(error.message);
    fail(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  });
}
