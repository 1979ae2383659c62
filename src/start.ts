// The server process: configuration → database (migrated) → GraphQL server, and a graceful stop on
// SIGTERM/SIGINT. A startup problem is one line on stderr and exit code 1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureAdminToken } from './auth/admin-token.js';
import { resolveTokenKeySecret } from './tokens/key-secret.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { applyMigrations } from './db/migrations.js';
import { createLogger } from './logger.js';
import { startMaintenance } from './maintenance.js';
import { createMetrics, type Metrics } from './metrics.js';
import { openRateLimitStore, type RateLimitStore } from './rate-limit.js';
import type { RunningServer } from './server.js';

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

function fail(message: string): never {
  process.stderr.write(`sessiongraph: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const startedAt = performance.now();

  // Building the schema takes a moment: let it happen while the database opens.
  const serverModule = import('./server.js');
  serverModule.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled

  const metrics = createMetrics();
  const db: Database = await openDatabase(config.database, { onStatement: (seconds) => metrics.statementDuration.observe(seconds) });
  let rateLimits: RateLimitStore | undefined;
  let running: RunningServer;
  let metricsServer: Server | undefined;
  try {
    const { createApp, startHttpServer } = await serverModule;
    const applied = await applyMigrations(db.adapterFactory);
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
    await ensureAdminToken(db.prisma, config, logger);
    // Settled once here (generated on the embedded database if need be), then read like any setting.
    config.auth.tokens.keySecret = resolveTokenKeySecret(config, logger);
    rateLimits = await openRateLimitStore(config.redisUrl, logger);
    running = await startHttpServer(createApp({ db, logger, config, rateLimits, metrics }), config);
    if (config.metricsPort !== undefined) metricsServer = await serveMetrics(metrics, config.metricsHost, config.metricsPort);
  } catch (error) {
    metricsServer?.close();
    await rateLimits?.close();
    await db.close();
    throw error;
  }
  const maintenance = startMaintenance(db, config, logger);
  logger.info('sessiongraph ready', {
    url: `${running.url}/graphql`,
    ...(metricsServer ? { metrics: `http://${config.metricsHost}:${(metricsServer.address() as AddressInfo).port}/metrics` } : {}),
    database: db.description,
    startupMs: Math.round(performance.now() - startedAt),
  });

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { signal });
    await running.stop();
    metricsServer?.close();
    await maintenance.stop();
    await rateLimits.close();
    await db.close();
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
