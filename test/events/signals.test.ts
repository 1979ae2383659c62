// Between instances: a commit on one reaches a subscriber on another through PostgreSQL
// LISTEN/NOTIFY, or through Redis pub/sub when configured, well before the safety-net poll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { EventFeed, type EventSignals, type FeedItem } from '../../src/events/feed.js';
import { withEvents } from '../../src/events/record.js';
import { postgresSignals, redisSignals } from '../../src/events/signals.js';
import { createLogger } from '../../src/logger.js';
import { createPostgresDatabase } from '../support/databases.js';

const logger = createLogger('error', () => {});
const redisUrl = process.env.TEST_REDIS_URL;

describe.runIf(process.env.TEST_DATABASE_URL)('event signals between instances', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let a: Database;
  let b: Database;
  let identityId: string;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    const open = () => openDatabase({ kind: 'postgres', url: database.url, poolSize: 3, connectTimeoutMs: 5000 });
    a = await open();
    await applyMigrations(a.adapterFactory);
    b = await open();
    identityId = (await a.prisma.identity.create({ data: {} })).id;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  const kinds: [string, (() => EventSignals) | undefined][] = [
    ['LISTEN/NOTIFY', () => postgresSignals(database.url, logger)],
    ['Redis pub/sub', redisUrl ? () => redisSignals(redisUrl, logger) : undefined],
  ];

  for (const [name, signals] of kinds) {
    it.runIf(signals)(`${name}: a commit on one instance reaches a subscriber on the other within a second`, async () => {
      // Polling once a minute: only the signal can deliver in time.
      const options = { pollMs: 60_000, maxSubscriptionsPerCaller: 10, maxQueuedEvents: 100, logger };
      const writer = new EventFeed(a, options, signals!());
      const reader = new EventFeed(b, options, signals!());
      await Promise.all([writer.start(), reader.start()]);
      try {
        const stream = await reader.subscribe({ filter: { identityId }, callerKey: 'test' });
        const started = Date.now();
        const arrived = stream.next();
        await withEvents(a.prisma, writer, async (_tx, events) => {
          events.push({ type: 'IDENTITY_STATE_CHANGED', identityId, details: { state: 'ACTIVE' }, occurredAt: new Date() });
        });
        const item = (await arrived).value as FeedItem;
        expect(item.kind === 'event' && item.event.type).toBe('IDENTITY_STATE_CHANGED');
        expect(Date.now() - started).toBeLessThan(1000);
      } finally {
        await Promise.all([writer.close(), reader.close()]);
      }
    });
  }
});
