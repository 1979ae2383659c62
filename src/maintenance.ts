// Housekeeping while the server runs: used and expired challenges are purged after
// CHALLENGE_RETENTION_HOURS, events and finished webhook deliveries after EVENT_RETENTION_DAYS, in bounded batches, every few
// minutes; every EVENT_LAPSE_SWEEP_SECONDS, sessions that expired or were abandoned get their event.
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { CommitListener } from './events/record.js';
import { purgeEvents, sweepLapses } from './events/lapses.js';
import type { Logger } from './logger.js';
import { purgeChallenges } from './revocation/service.js';
import { purgeWebhookDeliveries } from './webhooks/index.js';

const purgeIntervalMs = 10 * 60_000;
const batch = 1000;

/** Runs `purge` until it deletes less than a batch; returns how many rows went. */
async function inBatches(purge: () => Promise<number>): Promise<number> {
  let purged = 0;
  for (let deleted = batch; deleted === batch; purged += deleted) deleted = await purge();
  return purged;
}

export function startMaintenance(
  db: Database,
  config: Pick<Config, 'auth' | 'events'>,
  logger: Logger,
  events?: CommitListener,
  now: () => Date = () => new Date(),
): { stop(): Promise<void> } {
  // One job at a time: a slow purge delays the next sweep instead of racing it.
  let running: Promise<void> = Promise.resolve();
  const job = (name: string, work: () => Promise<void>) => () =>
    (running = running.then(work).catch((error: unknown) => {
      logger.warn(`${name} failed; will try again`, { error: (error as Error).message });
    }));
  const purge = job('purging old challenges and events', async () => {
    const challenges = await inBatches(() => purgeChallenges(db.prisma, now(), config.auth.challengeRetentionMs, batch));
    if (challenges > 0) logger.info('purged old challenges', { purged: challenges });
    const purgedEvents = await inBatches(() => purgeEvents(db.prisma, now(), config.events.retentionMs, batch));
    if (purgedEvents > 0) logger.info('purged old events', { purged: purgedEvents });
    const deliveries = await inBatches(() => purgeWebhookDeliveries(db.prisma, now(), config.events.retentionMs, batch));
    if (deliveries > 0) logger.info('purged old webhook deliveries', { purged: deliveries });
  });
  const sweep = job('recording expired and abandoned sessions', async () => {
    const recorded = await sweepLapses(db.prisma, events, now());
    if (recorded > 0) logger.debug('recorded session lapses', { recorded });
  });
  purge();
  sweep();
  const timers = [setInterval(purge, purgeIntervalMs), setInterval(sweep, config.events.lapseSweepMs)];
  for (const timer of timers) timer.unref();
  return {
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await running;
    },
  };
}
