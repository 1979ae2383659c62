// How one instance hears that another committed events: PostgreSQL LISTEN on the channel each
// instance notifies after its commits, or Redis pub/sub when REDIS_URL is set (for deployments whose
// pooler cannot hold a LISTEN, e.g. PgBouncer in transaction mode). Either way a lost notification
// only delays an event until the feed's next poll.
import pg from 'pg';
import { CoalescedTask } from '../coalesced-task.js';
import type { Logger } from '../logger.js';
import { feedIntervalMs, type EventSignals } from './feed.js';
import { eventChannel, notifySql } from './record.js';

const reconnectMs = 1000;

/** LISTEN on a connection of its own (a pooled one would be handed back and lose it). */
export function postgresSignals(url: string, logger: Logger): EventSignals {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let onSignal = () => {};
  // One NOTIFY in flight at a time, at most one per feedIntervalMs, one more if commits came
  // meanwhile: each NOTIFY commit takes PostgreSQL's notification lock and wakes every other
  // instance to read, so a busy instance sends one per burst of writes, not one per write.
  // Reconnecting, there is no client: the others read the events at their next poll.
  const notifies = new CoalescedTask(
    async () => {
      await client?.query(notifySql);
    },
    () => {}, // a lost NOTIFY only delays the others until their next poll
    feedIntervalMs,
  );
  const notify = (): void => {
    if (client) notifies.run();
  };
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    // Our own NOTIFY comes back on this connection too: the commit behind it already woke our feed.
    next.on('notification', (message) => {
      if (message.processId !== (next as pg.Client & { processID?: number }).processID) onSignal();
    });
    next.on('error', (error) => {
      logger.warn('event notifications lost their connection; reconnecting', { error: error.message });
      void next.end().catch(() => {});
      if (client === next) client = undefined;
      schedule();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${eventChannel}`);
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    // Whatever was committed while we were not listening.
    onSignal();
  };
  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch(() => schedule());
    }, reconnectMs);
    retry.unref();
  };
  return {
    async listen(callback) {
      onSignal = callback;
      await connect();
    },
    publish: notify,
    async close() {
      clearTimeout(retry);
      // The NOTIFY for the last commits goes out now, not after the interval on a closed client.
      await notifies.flush();
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}

const redisChannel = 'sessiongraph:events';

/** Redis pub/sub: a subscriber connection of its own, and our commits published on the shared one. */
export function redisSignals(url: string, logger: Logger): EventSignals {
  let warned = false;
  const warn = (error: Error) => {
    if (warned) return;
    warned = true;
    logger.warn('Redis event notifications failed; events still arrive by polling', { error: error.message });
  };
  // ioredis is loaded only where REDIS_URL is set (4 MB of the server's memory once loaded).
  const clients = import('ioredis').then(({ Redis }) => {
    const publisher = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const subscriber = new Redis(url, { lazyConnect: true });
    publisher.on('error', warn);
    subscriber.on('error', warn);
    return { publisher, subscriber };
  });
  let closed = false;
  // Coalesced as the NOTIFYs are: one publish per burst of commits (none once closed).
  const publishes = new CoalescedTask(
    async () => {
      if (!closed) await (await clients).publisher.publish(redisChannel, '');
    },
    (error) => warn(error as Error),
    feedIntervalMs,
  );
  return {
    async listen(callback) {
      const { publisher, subscriber } = await clients;
      subscriber.on('message', () => callback());
      // After a reconnect, anything published meanwhile is read on the next signal or poll.
      subscriber.on('ready', () => callback());
      await Promise.all([publisher.connect(), subscriber.connect()]);
      await subscriber.subscribe(redisChannel);
    },
    publish: () => publishes.run(),
    async close() {
      await publishes.flush();
      closed = true;
      const { publisher, subscriber } = await clients;
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
