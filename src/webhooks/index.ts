// Webhooks on a running server: the dispatcher queues deliveries for committed events, the worker
// sends them. Both start with the server and stop before the event feed and the database close.
import type { Config } from '../config.js';
import type { EventFeed } from '../events/feed.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Resolver } from './addresses.js';
import { clerkSessionData, type ClerkSessionData } from './clerk-data.js';
import { WebhookDispatcher } from './dispatcher.js';
import { WebhookWorker } from './worker.js';

export interface WebhookRuntime {
  dispatcher: WebhookDispatcher;
  worker: WebhookWorker;
  stop(): Promise<void>;
}

export interface WebhookRuntimeOptions {
  prisma: PrismaClient;
  feed: EventFeed;
  config: Pick<Config, 'webhooks' | 'events'>;
  keySecret: string | undefined;
  logger: Logger;
  metrics?: Metrics;
  resolve?: Resolver;
  now?: () => Date;
  clerkSession?: ClerkSessionData;
}

export async function startWebhooks(options: WebhookRuntimeOptions): Promise<WebhookRuntime> {
  const { prisma, config, logger } = options;
  const worker = new WebhookWorker(prisma, {
    config: config.webhooks,
    keySecret: options.keySecret,
    logger,
    metrics: options.metrics,
    pollMs: config.events.pollMs,
    resolve: options.resolve,
    now: options.now,
  });
  const dispatcher = new WebhookDispatcher(prisma, options.feed, {
    logger,
    clerkSession: options.clerkSession ?? clerkSessionData,
    onQueued: () => worker.poke(),
  });
  options.metrics?.watchWebhookQueue(() => webhookQueueStats(prisma, new Date()));
  await dispatcher.start();
  worker.start();
  return {
    dispatcher,
    worker,
    async stop() {
      await dispatcher.stop();
      await worker.stop();
    },
  };
}

/** Pending deliveries of enabled endpoints, and how long the oldest has waited. */
export async function webhookQueueStats(prisma: PrismaClient, now: Date): Promise<{ depth: number; oldestAgeSeconds: number }> {
  const [row] = await prisma.$queryRaw<{ depth: bigint; oldest: Date | null }[]>`
    SELECT count(*) AS depth, min(d.created_at) AS oldest FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.state = 'PENDING' AND e.disabled_at IS NULL`;
  return { depth: Number(row?.depth ?? 0), oldestAgeSeconds: row?.oldest ? Math.max(0, (now.getTime() - row.oldest.getTime()) / 1000) : 0 };
}

/**
 * Deletes finished deliveries older than `retentionMs`, at most `batch` at a time (an event's
 * deliveries also go with the event; test messages have none).
 */
export async function purgeWebhookDeliveries(prisma: PrismaClient, now: Date, retentionMs: number, batch = 1000): Promise<number> {
  const before = new Date(now.getTime() - retentionMs);
  return prisma.$executeRaw`
    DELETE FROM webhook_deliveries WHERE id IN (
      SELECT id FROM webhook_deliveries WHERE state <> 'PENDING' AND created_at < ${before} LIMIT ${batch})`;
}
