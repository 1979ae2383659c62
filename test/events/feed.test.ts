// The live feed over a real database: subscriptions that resume while writers commit concurrently
// get every later event exactly once, in order; slow subscribers and greedy callers are bounded;
// a session's stream ends with the event that ends the session.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventFeed, type FeedItem } from '../../src/events/feed.js';
import { withEvents } from '../../src/events/record.js';
import { createLogger } from '../../src/logger.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

const logger = createLogger('error', () => {});

async function take(stream: AsyncIterator<FeedItem>, count: number): Promise<FeedItem[]> {
  const items: FeedItem[] = [];
  while (items.length < count) {
    const next = await stream.next();
    if (next.done) break;
    items.push(next.value);
  }
  return items;
}

const sequences = (items: FeedItem[]) => items.map((item) => (item.kind === 'event' ? item.event.sequence : -1n));

describe.each(databaseTargets)('the event feed on $name', (target) => {
  let t: TestDatabase;
  let identityId: string;
  let sessionId: string;
  beforeAll(async () => {
    t = await target.open();
    identityId = (await t.db.prisma.identity.create({ data: {} })).id;
    sessionId = (await t.db.prisma.session.create({ data: { identityId } })).id;
  });
  afterAll(async () => {
    await t.dispose();
  });

  const feedWith = (options: Partial<ConstructorParameters<typeof EventFeed>[1]> = {}) =>
    new EventFeed(t.db, { pollMs: 50, maxSubscriptionsPerCaller: 100, maxQueuedEvents: 10_000, logger, ...options });

  /** One committed transaction with one activity event. */
  const write = (feed?: EventFeed, type: 'SESSION_ACTIVITY_RECORDED' | 'SESSION_REVOKED' = 'SESSION_ACTIVITY_RECORDED', session = sessionId) =>
    withEvents(t.db.prisma, feed, async (_tx, events) => {
      events.push({ type, identityId, sessionId: session, occurredAt: new Date() });
    });

  it('delivers every event after the resume point exactly once, in commit order, while writers race', async () => {
    const feed = feedWith();
    await feed.start();
    for (let i = 0; i < 10; i++) await write(feed);
    const resumeAfter = (await t.db.prisma.sessionEvent.findMany({ orderBy: { sequence: 'desc' }, take: 5 })).at(-1)!.sequence;
    // Four writers commit 25 transactions each while three subscribers join, resuming mid-way.
    const writers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 25; i++) await write(feed);
    });
    const subscribers = Array.from({ length: 3 }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 15));
      return feed.subscribe({ filter: { identityId }, afterSequence: resumeAfter, callerKey: `test:${i}` });
    });
    const [streams] = await Promise.all([Promise.all(subscribers), Promise.all(writers)]);
    const expected = (await t.db.prisma.sessionEvent.findMany({ where: { sequence: { gt: resumeAfter } }, orderBy: { sequence: 'asc' } })).map((e) => e.sequence);
    expect(expected).toHaveLength(104);
    for (const stream of streams) expect(sequences(await take(stream, expected.length))).toEqual(expected);
    await feed.close();
  });

  it.runIf(target.name === 'postgres')('holds back an event committed after an earlier transaction took its number, until that one commits', async () => {
    // Polls only a minute apart: the held event must arrive by the feed's own re-reads.
    const feed = feedWith({ pollMs: 60_000 });
    await feed.start();
    await write(feed);
    const before = (await t.db.prisma.sessionEvent.findFirst({ orderBy: { sequence: 'desc' } }))!.sequence;
    const live = await feed.subscribe({ filter: { identityId }, callerKey: 'test:live' });
    // The earlier transaction: a client of its own writes an event and keeps the transaction open.
    const early = new pg.Client({ connectionString: t.url });
    await early.connect();
    try {
      await early.query('BEGIN');
      const { rows } = await early.query<{ sequence: string }>(
        `INSERT INTO session_events (id, type, identity_id, session_id) VALUES (gen_random_uuid(), 'SESSION_ACTIVITY_RECORDED', $1, $2) RETURNING sequence`,
        [identityId, sessionId],
      );
      const earlier = BigInt(rows[0]!.sequence);
      await write(feed);
      const later = (await t.db.prisma.sessionEvent.findFirst({ orderBy: { sequence: 'desc' } }))!.sequence;
      expect(earlier).toBeLessThan(later);
      const resumed = await feed.subscribe({ filter: { identityId }, afterSequence: before, callerKey: 'test:resumed' });
      // From now: the later event had committed before it began, the earlier one had not.
      const fresh = await feed.subscribe({ filter: { identityId }, callerKey: 'test:fresh' });
      const [liveFirst, resumedFirst, freshFirst] = [live.next(), resumed.next(), fresh.next()];
      // Committed, but a reader that handed it out now would skip the earlier one for good.
      const nothing = Symbol('nothing');
      expect(await Promise.race([liveFirst, resumedFirst, freshFirst, new Promise((resolve) => setTimeout(() => resolve(nothing), 400))])).toBe(nothing);
      await early.query('COMMIT');
      for (const [first, stream] of [[liveFirst, live], [resumedFirst, resumed]] as const) {
        expect(sequences([(await first).value as FeedItem, ...(await take(stream, 1))])).toEqual([earlier, later]);
      }
      await write(feed);
      const last = (await t.db.prisma.sessionEvent.findFirst({ orderBy: { sequence: 'desc' } }))!.sequence;
      expect(sequences([(await freshFirst).value as FeedItem, ...(await take(fresh, 1))])).toEqual([earlier, last]);
    } finally {
      await early.end();
      await feed.close();
    }
  });

  it('hands out a page in numeric order where sequences gain a digit (an upgraded database\'s old serial numbers)', async () => {
    const own = (await t.db.prisma.identity.create({ data: {} })).id;
    for (const sequence of [100, 9, 10]) {
      await t.db.read(`INSERT INTO session_events (id, type, identity_id, sequence) VALUES (gen_random_uuid(), 'IDENTITY_CREATED', $1, $2)`, [own, sequence]);
    }
    const feed = feedWith();
    const stream = await feed.subscribe({ filter: { identityId: own }, afterSequence: 0n, callerKey: 'test:digits' });
    expect(sequences(await take(stream, 3))).toEqual([9n, 10n, 100n]);
    await feed.close();
  });

  it('hands out each event as Prisma reads it from the table', async () => {
    const feed = feedWith();
    const stream = await feed.subscribe({ filter: { identityId }, callerKey: 'test:shape' });
    await withEvents(t.db.prisma, feed, async (_tx, events) => {
      events.push({ type: 'SESSION_REVOKED', identityId, sessionId, actorApiClientId: 'admin', reason: 'lost phone', ipAddress: '192.0.2.7', details: { reason: 'lost phone', nested: [1, 'two'] }, occurredAt: new Date('2026-12-03T10:00:00.123Z') });
    });
    const [item] = await take(stream, 1);
    const event = (item as Extract<FeedItem, { kind: 'event' }>).event;
    expect(event).toEqual(await t.db.prisma.sessionEvent.findUnique({ where: { id: event.id } }));
    expect(typeof event.sequence).toBe('bigint');
    expect(event.occurredAt).toEqual(new Date('2026-12-03T10:00:00.123Z'));
    await feed.close();
  });

  it('reads a value alongside the events, in their snapshot: what committed before an event is in the value that comes with it', async () => {
    const feed = feedWith();
    const identities = feed.readAlongside('SELECT count(*)::int FROM identities');
    const stream = await feed.subscribe({ filter: {}, callerKey: 'test:alongside' });
    const before = await t.db.prisma.identity.count();
    const created = (await t.db.prisma.identity.create({ data: {} })).id;
    await withEvents(t.db.prisma, feed, async (_tx, events) => {
      events.push({ type: 'IDENTITY_CREATED', identityId: created, occurredAt: new Date() });
    });
    const [item] = await take(stream, 1);
    const event = (item as Extract<FeedItem, { kind: 'event' }>).event;
    expect(event.identityId).toBe(created);
    const known = identities()!;
    expect(event.sequence < known.below).toBe(true);
    expect(known.value).toBe(before + 1);
    await feed.close();
  });

  it('ends a subscription that stops reading, saying where to resume', async () => {
    const feed = feedWith({ maxQueuedEvents: 3 });
    const stream = await feed.subscribe({ filter: { identityId }, callerKey: 'test:slow' });
    for (let i = 0; i < 5; i++) await write(feed);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const items = await take(stream, 10);
    expect(items.map((item) => item.kind)).toEqual(['event', 'event', 'event', 'overflow']);
    expect(items[3]).toEqual({ kind: 'overflow', lastEventId: (items[2] as { event: { id: string } }).event.id });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    await feed.close();
  });

  it('holds each caller to MAX_SUBSCRIPTIONS_PER_CALLER', async () => {
    const feed = feedWith({ maxSubscriptionsPerCaller: 2 });
    const first = await feed.subscribe({ filter: {}, callerKey: 'session:a' });
    await feed.subscribe({ filter: {}, callerKey: 'session:a' });
    await expect(feed.subscribe({ filter: {}, callerKey: 'session:a' })).rejects.toMatchObject({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
    await feed.subscribe({ filter: {}, callerKey: 'session:b' });
    await first.return!();
    await feed.subscribe({ filter: {}, callerKey: 'session:a' });
    await feed.close();
    expect(feed.size).toBe(0);
  });

  it('ends a session\'s stream after the event that revokes it, even when it filtered that type out', async () => {
    const feed = feedWith();
    const other = (await t.db.prisma.session.create({ data: { identityId } })).id;
    const stream = await feed.subscribe({ filter: { identityId, types: new Set(['SESSION_ACTIVITY_RECORDED']) }, callerKey: 'test:own', sessionId });
    await write(feed, 'SESSION_REVOKED', other); // another session's: filtered out, stream goes on
    await write(feed, 'SESSION_ACTIVITY_RECORDED');
    await write(feed, 'SESSION_REVOKED', sessionId);
    await write(feed, 'SESSION_ACTIVITY_RECORDED');
    const items = await take(stream, 10);
    expect(items.map((item) => (item.kind === 'event' ? [item.event.type, item.event.sessionId] : item.kind))).toEqual([
      ['SESSION_ACTIVITY_RECORDED', sessionId],
      ['SESSION_REVOKED', sessionId],
    ]);
    await feed.close();
  });
});
