// The server process: configuration → database (migrated) → GraphQL server, and a graceful stop on
// SIGTERM/SIGINT. A startup problem is one line on stderr and exit code 1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureAdminToken } from './auth/admin-token.js';
import { resolveTokenKeySecret } from './tokens/key-secret.js';
import { createSessionTokens } from './tokens/session-tokens.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { applyMigrations } from './db/migrations.js';
import { createLogger, type Logger } from './logger.js';
import { startMaintenance } from './maintenance.js';
import { createMetrics, type Metrics } from './metrics.js';
import { authenticationRequired } from './auth/guards.js';
import { memoryStore, openRateLimitStore, type RateLimitStore } from './rate-limit.js';
import type { App, RequestHandler, RunningServer } from './server.js';
import { EventFeed, type EventSignals } from './events/feed.js';
import { postgresSignals, redisSignals } from './events/signals.js';
import { attachWebSockets, type WebSocketEndpoint } from './http/websocket.js';
import { startWebhooks, type WebhookRuntime } from './webhooks/index.js';

/** METRICS_PORT: the metrics alone, on a port of their own (for a scraper on a private network). */
async function serveMetrics(metrics: Metrics, host: string, port: number): Promise<Server> {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new ConfigError('METRICS_PORT', error.code === 'EADDRINUSE' ? `${port} is already in use` : error.message)));
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** How instances tell each other of new events: Redis when configured, else LISTEN/NOTIFY on PostgreSQL. */
function eventSignals(config: Config, logger: Logger): EventSignals | undefined {
  if (config.redisUrl) return redisSignals(config.redisUrl, logger);
  if (config.database.kind === 'postgres') return postgresSignals(config.database.url, logger);
  return undefined; // the embedded database has one instance: its own commits are all there are
}

function fail(message: string): never {
  process.stderr.write(`sessiongraph: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const startedAt = performance.now();

  // The database opens while the schema is built; the server listens as soon as the schema is
  // ready. Until the database is open, requests without credentials — which can read nothing but
  // the schema — are answered by an app on a database that refuses every use (as it would refuse
  // an anonymous caller anyway); requests with credentials, the JWKS and the metrics wait.
  const metrics = createMetrics();
  // OpenTelemetry is loaded only when an OTLP endpoint is configured: otherwise not one module of it.
  const tracing = config.tracing ? (await import('./http/opentelemetry.js')).startTracing(config.tracing, logger) : undefined;
  const opening = openDatabase(config.database, { onStatement: (seconds) => metrics.statementDuration.observe(seconds) });
  opening.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
  const { createApp, startHttpServer, unopenedDatabase } = await import('./server.js');
  let schemaOnly: RequestHandler | undefined = createApp({
    db: unopenedDatabase(authenticationRequired),
    logger,
    config: { ...config, auth: { ...config.auth, tokens: { ...config.auth.tokens, keySecret: undefined } } },
    rateLimits: memoryStore(),
    metrics,
    tracing: tracing?.plugin,
  });
  let app: RequestHandler | undefined;
  let graphqlApp: App | undefined;
  let events: EventFeed | undefined;
  let webSockets: WebSocketEndpoint | undefined;
  let webhooks: WebhookRuntime | undefined;
  let opened!: () => void;
  const whenOpen = new Promise<void>((resolve) => (opened = resolve));
  const waitsForDatabase = (url = '') => /^\/(\.well-known\/jwks\.json|metrics)\b/.test(url);
  let running: RunningServer | undefined;
  let db: Database | undefined;
  let rateLimits: RateLimitStore | undefined;
  let metricsServer: Server | undefined;
  try {
    running = await startHttpServer((req, res) => {
      if (app) return app(req, res);
      if (!req.headers.authorization && !waitsForDatabase(req.url)) return schemaOnly!(req, res);
      return whenOpen.then(() => app!(req, res));
    }, config);
    // WebSocket subscriptions authenticate, so they wait for the database like other credentials.
    webSockets = attachWebSockets(running.server, () => whenOpen.then(() => graphqlApp!), {
      heartbeatMs: config.events.heartbeatMs,
      idleMs: config.events.idleMs,
      maxPayloadBytes: config.limits.maxRequestBodyBytes,
      production: config.env === 'production',
    });
    logger.info('sessiongraph listening', { url: `${running.url}/graphql`, startupMs: Math.round(performance.now() - startedAt) });
    db = await opening;
    const applied = await applyMigrations(db.adapterFactory);
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
    await ensureAdminToken(db.prisma, config, logger);
    // Settled once here (generated on the embedded database if need be), then read like any setting.
    config.auth.tokens.keySecret = resolveTokenKeySecret(config, logger);
    rateLimits = await openRateLimitStore(config.redisUrl, logger);
    events = new EventFeed(db, { ...config.events, logger }, eventSignals(config, logger));
    // The feed's first read runs beside the first requests too: a subscription waits for it (and
    // committed events are read from where it starts), nothing else does.
    const feedStarting = events.start();
    feedStarting.catch(() => {}); // awaited below
    // The signing keys (and each algorithm's next key) and the revocation set, made and loaded
    // beside the first requests: the JWKS and JWT requests wait for them, nothing else does.
    const tokens = createSessionTokens(db.prisma, config.auth.tokens, { feed: events, logger, now: () => new Date(), read: db.read });
    tokens?.prepare().catch((error: unknown) => logger.warn('session tokens not prepared yet; trying again on first use', { error: (error as Error).message }));
    app = graphqlApp = createApp({ db, logger, config, rateLimits, metrics, events, tokens, tracing: tracing?.plugin });
    schemaOnly = undefined; // its own Yoga instance and caches are garbage from here on
    opened();
    await feedStarting;
    webhooks = await startWebhooks({ prisma: db.prisma, feed: events, config, keySecret: config.auth.tokens.keySecret, logger, metrics });
    if (config.metricsPort !== undefined) metricsServer = await serveMetrics(metrics, config.metricsHost, config.metricsPort);
  } catch (error) {
    metricsServer?.close();
    await webhooks?.stop();
    await events?.close();
    await webSockets?.close();
    await running?.stop();
    await rateLimits?.close();
    await (db ?? (await opening.catch(() => undefined)))?.close();
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
    // Webhooks stop first: attempts in flight get a moment, the rest are handed back for the
    // next instance. Live streams end next (clients resume elsewhere from their last event id),
    // so the server's wait for requests in progress is not a wait for subscriptions that never end.
    await live.webhooks.stop();
    await live.events.close();
    await live.webSockets.close();
    await live.running.stop();
    metricsServer?.close();
    await maintenance.stop();
    await live.rateLimits.close();
    await live.db.close();
    await tracing?.shutdown().catch(() => {});
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) fail(error.message);
  fail(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
});
