// Housekeeping while the server runs: used and expired challenges are purged after
// CHALLENGE_RETENTION_HOURS, in bounded batches, every few minutes.
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Logger } from './logger.js';
import { purgeChallenges } from './revocation/service.js';

const intervalMs = 10 * 60_000;
const batch = 1000;

export function startMaintenance(db: Database, config: Pick<Config, 'auth'>, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const purge = async () => {
    try {
      let purged = 0;
      for (let deleted = batch; deleted === batch; purged += deleted) {
        deleted = await purgeChallenges(db.prisma, new Date(), config.auth.challengeRetentionMs, batch);
      }
      if (purged > 0) logger.info('purged old challenges', { purged });
    } catch (error) {
      logger.warn('could not purge old challenges; will try again', { error: (error as Error).message });
    }
  };
  const tick = () => (running = running.then(purge));
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
