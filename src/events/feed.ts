// The live side of the audit trail. Each instance tails the event table in sequence order and
// hands every new event to the subscriptions that want it, but reads only below the horizon: the
// oldest transaction of this database still in flight, times 2^20. An event's sequence starts with its transaction's
// id (record.ts), so nothing can still commit below the horizon: the tail never skips an event that
// commits late, and no writer waits for another (docs/events.md). A notification (LISTEN/NOTIFY,
// Redis or a local commit) makes it read at once (reads start at least feedIntervalMs apart, so a
// burst of commits shares one); committed events still above the horizon make it
// read again shortly; a slow poll catches anything a lost notification would have left behind.
// Subscriptions that resume from an earlier event read what they missed from the table first, then
// continue live: no gap, no duplicate.
import type { Database } from '../db/database.js';
import type { SessionEvent } from '../generated/prisma/client.js';
import type { SessionEventType } from '../generated/prisma/enums.js';
import { CoalescedTask } from '../coalesced-task.js';
import { codedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CommitListener } from './record.js';
import { endsSession } from './session-ends.js';

export interface EventFilter {
  /** Only this identity's events (a session caller always has it set to its own). */
  identityId?: string;
  types?: ReadonlySet<SessionEventType>;
}

/** What a subscription yields: an event, or the notice that it fell too far behind. */
export type FeedItem = { kind: 'event'; event: SessionEvent } | { kind: 'overflow'; lastEventId: string | null };

export interface SubscribeOptions {
  filter: EventFilter;
  /** Resume after this event's sequence number; from now when absent. */
  afterSequence?: bigint;
  /** Counted against MAX_SUBSCRIPTIONS_PER_CALLER. */
  callerKey: string;
  /** The subscribing session: its stream ends after the event that ends it. */
  sessionId?: string;
  /** When the subscriber's credential stops working (a session JWT's expiry): the stream ends then. */
  endsAt?: Date;
}

export interface FeedOptions {
  pollMs: number;
  maxSubscriptionsPerCaller: number;
  maxQueuedEvents: number;
  logger: Logger;
}

/** Where notifications of other instances' commits come from (and where ours go). */
export interface EventSignals {
  /** Called whenever events may have been committed somewhere. */
  listen(onSignal: () => void): Promise<void>;
  /** Our own commit: tell the others (the local feed is told directly). */
  publish(): void;
  close(): Promise<void>;
}

const pageSize = 500;

/**
 * The least time between two starts of the tail's reads, and of the NOTIFYs an instance sends: a
 * burst of commits shares one of each, and an event waits at most this much longer (docs/events.md).
 */
export const feedIntervalMs = 20;

/** The callerKey prefix of the server's own subscriptions (the revocation set, the webhook dispatcher). */
export const internalCallerPrefix = 'internal:';

/**
 * The feed's one statement: the horizon and the events below it, in one snapshot. Sequence numbers
 * below the horizon are final: a sequence is its transaction's id × 2^20 plus a place, and every
 * transaction of this database whose id is below the oldest one still in flight has ended (before
 * this statement's snapshot, so its events are in the rows read). `plain` is the snapshot's xmin
 * (the oldest in flight on the whole server); when it holds events back beyond the floor ($2, the
 * highest horizon found before) and $1 allows, `refined` leaves out the transactions
 * pg_stat_activity shows in another database (they cannot write here; one it cannot place counts
 * as ours). `newest`: the newest committed event, read backwards from the index. Then the events
 * after $3 below the horizon (of identity $4 when given), and what a companion asked to read in the
 * same snapshot (see `alongside`). Straight to the driver: on PostgreSQL a prepared statement, and
 * none of Prisma's work per row.
 */
function feedSql(events: 'none' | 'all' | 'identity', alongside: string[]): string {
  // The sequence leaves as text (both drivers read it alike) and is sorted as the number it is:
  // as text "1000341504" comes before "999292928".
  const eventColumns = `e.id, e.sequence::text AS sequence, e.type::text AS type, e.identity_id, e.session_id, e.credential_id, e.actor_session_id,
           e.actor_api_client_id, e.reason, e.ip_address, e.details, (extract(epoch FROM e.occurred_at) * 1000)::float8 AS occurred_ms`;
  const below = `e.sequence > $3::bigint AND e.sequence < greatest(h.plain, h.refined, $2::bigint)${events === 'identity' ? ' AND e.identity_id = $4::uuid' : ''}`;
  return `WITH s AS (
    SELECT c.snapshot, pg_snapshot_xmin(c.snapshot)::text::bigint << 20 AS plain, (SELECT max(sequence) FROM session_events) AS newest
      FROM pg_current_snapshot() AS c(snapshot)
  ), h AS (
    SELECT CASE WHEN $1::boolean AND s.newest >= greatest(s.plain, $2::bigint) THEN coalesce(
             (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s.snapshot) AS x
               WHERE (x::text::bigint % 4294967296)::text NOT IN (
                 SELECT backend_xid::text FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())),
             pg_snapshot_xmax(s.snapshot)::text::bigint) << 20 END AS refined,
           s.plain, s.newest, pg_snapshot_xmax(s.snapshot)::text AS xmax, ARRAY(SELECT pg_snapshot_xip(s.snapshot)::text) AS in_flight
      FROM s
  )
  SELECT h.refined::text AS refined, h.plain::text AS plain, h.newest::text AS newest, h.xmax, h.in_flight${alongside.map((column) => `, ${column}`).join('')}${
    events === 'none'
      ? '\n    FROM h'
      : `, e.*
    FROM h LEFT JOIN LATERAL (SELECT ${eventColumns} FROM session_events e WHERE ${below} ORDER BY e.sequence LIMIT ${pageSize}) e ON true
    ORDER BY e.sequence::bigint`
  }`;
}

/** A row of the feed's statement as the event subscribers get (the shape Prisma gives). */
function eventOf(row: Record<string, unknown>): SessionEvent {
  return {
    id: row.id as string,
    sequence: BigInt(row.sequence as string),
    type: row.type as SessionEventType,
    identityId: row.identity_id as string,
    sessionId: row.session_id as string | null,
    credentialId: row.credential_id as string | null,
    actorSessionId: row.actor_session_id as string | null,
    actorApiClientId: row.actor_api_client_id as string | null,
    reason: row.reason as string | null,
    ipAddress: row.ip_address as string | null,
    details: (row.details ?? null) as SessionEvent['details'],
    occurredAt: new Date(Number(row.occurred_ms)),
  };
}

/** Where the feed reads: statements straight to the driver. */
export type FeedDatabase = Pick<Database, 'read'>;

/** A value read alongside the events, and the horizon of that read (readAlongside). */
export interface AlongsideValue {
  value: unknown;
  below: bigint;
}

interface Horizon {
  horizon: bigint;
  /** Committed events wait above the horizon for an older transaction to end. */
  held: boolean;
  /** The snapshot's first transaction id not yet started, and the ones then in flight. */
  xmax: string;
  inFlight: string[];
}

// pg_stat_activity costs a scan of every connection slot: at most this often, and only while the
// server-wide horizon holds events back. A horizon once found stays valid, so reads in between use it.
const refineEveryMs = 50;

/**
 * Whether an event's transaction had committed when the snapshot was taken: a subscription "from
 * now" skips those, even when an older transaction still holds them above the horizon.
 */
function committedBefore(snapshot: Horizon): (sequence: bigint) => boolean {
  const xmax = BigInt(snapshot.xmax);
  const inFlight = new Set(snapshot.inFlight.map(BigInt));
  return (sequence) => {
    const xact = sequence >> 20n;
    return xact < xmax && !inFlight.has(xact);
  };
}

// Held events are read again after 20 ms (no read starts sooner anyway), then 40, 80, … up to
// 200 ms (or EVENT_POLL_MS if lower).
const heldFirstRetryMs = feedIntervalMs;
const heldLastRetryMs = 200;
// Held back this long by one transaction: say so, since it may belong to another application.
const heldWarningMs = 10_000;

function matches(filter: EventFilter, event: SessionEvent): boolean {
  return (!filter.identityId || event.identityId === filter.identityId) && (!filter.types || filter.types.has(event.type));
}

class Subscription implements AsyncIterableIterator<FeedItem> {
  private readonly queue: FeedItem[] = [];
  private waiting?: (result: IteratorResult<FeedItem>) => void;
  private ending = false;
  private done = false;
  /** Events at or below this were delivered (or belong to before the subscription). */
  last: bigint;
  /** From now: events above `last` that had committed before the subscription began. */
  before?: (sequence: bigint) => boolean;
  /** Live events arriving while the missed ones are still being read. */
  private pending: SessionEvent[] | null = [];
  private lastEventId: string | null = null;

  constructor(
    readonly options: SubscribeOptions,
    last: bigint,
    private readonly maxQueued: number,
    private readonly onEnd: (subscription: Subscription) => void,
  ) {
    this.last = last;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** A live event, in sequence order. */
  offer(event: SessionEvent): void {
    if (this.done || this.ending) return;
    if (this.pending) this.pending.push(event);
    else this.deliver(event);
  }

  /** The missed events are read: switch to live, without repeating any. */
  caughtUp(): void {
    const pending = this.pending ?? [];
    this.pending = null;
    for (const event of pending) this.deliver(event);
  }

  deliver(event: SessionEvent): void {
    if (this.done || this.ending || event.sequence <= this.last) return;
    this.last = event.sequence;
    if (this.before?.(event.sequence)) return;
    const own = endsSession(event, this.options.sessionId, this.options.filter.identityId);
    if (!own && !matches(this.options.filter, event)) return;
    if (this.queue.length >= this.maxQueued) {
      // A subscriber that does not read cannot make the server hold events for it forever.
      this.push({ kind: 'overflow', lastEventId: this.lastEventId });
      this.end();
      return;
    }
    this.lastEventId = event.id;
    this.push({ kind: 'event', event });
    if (own) this.end();
  }

  private push(item: FeedItem): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
    } else {
      this.queue.push(item);
    }
  }

  /** Ends the stream once what is queued has been read. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    if (this.queue.length === 0) this.finish();
  }

  private readonly finishers: (() => void)[] = [];

  /** Runs `callback` when the stream has ended. */
  onFinish(callback: () => void): void {
    this.finishers.push(callback);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.onEnd(this);
    for (const callback of this.finishers) callback();
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<FeedItem>> {
    const item = this.queue.shift();
    if (item) {
      if (this.ending && this.queue.length === 0) this.finish();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.done || this.ending) {
      this.finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<FeedItem>> {
    this.queue.length = 0;
    this.ending = true;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }
}

export class EventFeed implements CommitListener {
  /** Events at or below this were handed to the subscriptions (or came before the feed started). */
  private cursor: bigint | undefined;
  private heldTimer: NodeJS.Timeout | undefined;
  private heldRetryMs = 0;
  /** The horizon events first waited at, and since when (for the warning). */
  private stalled: { horizon: bigint; since: number; warned: boolean } | undefined;
  /** The highest horizon found so far: what lies below it is final for good. */
  private floor = 0n;
  private refinedAt = 0;
  /** Values read alongside the events (readAlongside), by their SQL. */
  private readonly alongside = new Map<string, AlongsideValue | undefined>();
  /** The feed's statement texts (they change when a value is to be read alongside). */
  private readonly statements = new Map<string, string>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly perCaller = new Map<string, number>();
  private readonly reads = new CoalescedTask(
    () => (this.closed ? Promise.resolve() : this.readNew()),
    (error) => this.options.logger.warn('could not read new events; will try again', { error: (error as Error).message }),
    feedIntervalMs,
  );
  private timer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: FeedDatabase,
    private readonly options: FeedOptions,
    private readonly signals?: EventSignals,
  ) {}

  /** Starts tailing (once; subscribing starts it too). */
  start(): Promise<void> {
    return (this.started ??= (async () => {
      this.cursor = (await this.read('none')).horizon - 1n;
      await this.signals?.listen(() => this.poke());
      this.timer = setInterval(() => this.poke(), this.options.pollMs);
      this.timer.unref();
    })());
  }

  /** Our own transaction committed events: read them now and tell the other instances. */
  committed(): void {
    this.signals?.publish();
    this.poke();
  }

  /** Reads new events now (coalesced: one read at a time, another if asked meanwhile). */
  poke(): void {
    if (this.cursor === undefined || this.closed) return;
    this.reads.run();
  }

  /**
   * Reads `expression` (SQL, one value) in every statement of the feed from now on, in the same
   * snapshot as the events: the function returned gives its latest value with the horizon of the
   * read that found it. Every event below that horizon committed before the value was read, so for
   * such events the value is at least as fresh as a read made after them (the webhook dispatcher's
   * endpoint types). Undefined until the next read.
   */
  readAlongside(expression: string): () => AlongsideValue | undefined {
    if (!this.alongside.has(expression)) {
      this.alongside.set(expression, undefined);
      this.statements.clear();
    }
    return () => this.alongside.get(expression);
  }

  private statement(events: 'none' | 'all' | 'identity'): string {
    let text = this.statements.get(events);
    if (!text) {
      const columns = [...this.alongside.keys()].map((expression, i) => `(${expression}) AS alongside_${i}`);
      this.statements.set(events, (text = feedSql(events, columns)));
    }
    return text;
  }

  /**
   * One statement of the feed: the horizon it read below (never lower than one found before) and
   * the events after `after` below it (none for `events: 'none'`).
   */
  private async read(events: 'none' | 'all' | 'identity', after = 0n, identityId?: string): Promise<Horizon & { events: SessionEvent[] }> {
    const floor = this.floor;
    // The columns of the statement sent (its text is made from the same keys, in the same order).
    const expressions = [...this.alongside.keys()];
    const params: unknown[] = [Date.now() - this.refinedAt >= refineEveryMs, floor.toString()];
    if (events !== 'none') params.push(after.toString());
    if (events === 'identity') params.push(identityId);
    const rows = await this.db.read(this.statement(events), params);
    const first = rows[0]!;
    const refined = first.refined === null ? null : BigInt(first.refined as string);
    const plain = BigInt(first.plain as string);
    if (refined !== null) this.refinedAt = Date.now();
    // The horizon the statement read below: what it found, or the floor it was given.
    let horizon = floor;
    for (const found of [plain, refined ?? 0n]) if (found > horizon) horizon = found;
    if (horizon > this.floor) this.floor = horizon;
    // Kept from the read with the highest horizon: reads in flight together may end in any order.
    expressions.forEach((expression, i) => {
      const known = this.alongside.get(expression);
      if (!known || horizon >= known.below) this.alongside.set(expression, { value: first[`alongside_${i}`], below: horizon });
    });
    return {
      horizon,
      held: first.newest !== null && BigInt(first.newest as string) >= horizon,
      xmax: first.xmax as string,
      inFlight: first.in_flight as string[],
      events: events === 'none' ? [] : rows.filter((row) => row.id !== null).map(eventOf),
    };
  }

  private async readNew(): Promise<void> {
    for (;;) {
      const { horizon, held, events } = await this.read('all', this.cursor!);
      for (const event of events) {
        this.cursor = event.sequence;
        for (const subscription of this.subscriptions) subscription.offer(event);
      }
      if (events.length === pageSize) continue;
      // Everything below the horizon is read: the next read starts there.
      if (horizon - 1n > this.cursor!) this.cursor = horizon - 1n;
      this.watchHeld(horizon, held);
      return;
    }
  }

  /** Committed events wait above the horizon: read again soon, sooner than the next poll. */
  private watchHeld(horizon: bigint, held: boolean): void {
    if (!held) {
      this.heldRetryMs = 0;
      this.stalled = undefined;
      return;
    }
    if (this.stalled?.horizon !== horizon) this.stalled = { horizon, since: Date.now(), warned: false };
    else if (!this.stalled.warned && Date.now() - this.stalled.since >= heldWarningMs) {
      this.stalled.warned = true;
      this.options.logger.warn('live events wait for a transaction that is still open; they are delivered when it ends (docs/events.md)', {
        seconds: Math.round((Date.now() - this.stalled.since) / 1000),
      });
    }
    if (this.heldTimer || this.closed) return;
    this.heldRetryMs = Math.min(this.heldRetryMs ? this.heldRetryMs * 2 : heldFirstRetryMs, heldLastRetryMs, this.options.pollMs);
    this.heldTimer = setTimeout(() => {
      this.heldTimer = undefined;
      this.poke();
    }, this.heldRetryMs);
    this.heldTimer.unref();
  }

  /** How many live subscriptions this instance holds. */
  get size(): number {
    return this.subscriptions.size;
  }

  /** How many of them are clients' (SSE, WebSocket): the server's own use a callerKey under `internal:`. */
  get clientSize(): number {
    let count = 0;
    for (const subscription of this.subscriptions) if (!subscription.options.callerKey.startsWith(internalCallerPrefix)) count++;
    return count;
  }

  /**
   * A stream of events matching the filter, after `afterSequence` (missed ones first) or from
   * now. Refused with TOO_MANY_SUBSCRIPTIONS over the caller's limit.
   */
  async subscribe(options: SubscribeOptions): Promise<AsyncIterableIterator<FeedItem>> {
    if (this.closed) throw codedError('SHUTTING_DOWN', 'This server is shutting down; subscribe again (another instance will answer)');
    const held = this.perCaller.get(options.callerKey) ?? 0;
    if (held >= this.options.maxSubscriptionsPerCaller) {
      throw codedError(
        'TOO_MANY_SUBSCRIPTIONS',
        `This caller already holds ${held} subscriptions (MAX_SUBSCRIPTIONS_PER_CALLER); end one before starting another`,
      );
    }
    // Counted before the first await: concurrent subscribes must not all see the old count.
    this.perCaller.set(options.callerKey, held + 1);
    await this.start().catch((error: unknown) => {
      this.release(options.callerKey);
      throw error;
    });
    const resuming = options.afterSequence !== undefined;
    // Registered before anything is read: live events queue in it meanwhile.
    // The server's own subscribers (revocation set, webhook dispatcher) read every event: a burst
    // such as an import's thousands must not end their stream and send them back to re-read it.
    const maxQueued = options.callerKey.startsWith(internalCallerPrefix) ? Infinity : this.options.maxQueuedEvents;
    const subscription = new Subscription(options, options.afterSequence ?? 0n, maxQueued, (ended) => this.forget(ended));
    this.subscriptions.add(subscription);
    if (options.endsAt) {
      const timer = setTimeout(() => subscription.end(), Math.max(0, options.endsAt.getTime() - Date.now()));
      timer.unref();
      subscription.onFinish(() => clearTimeout(timer));
    }
    try {
      // Read after registering: whatever the tail reads from here on reaches the subscription too.
      if (!resuming) {
        const snapshot = await this.read('none');
        // From now: everything final is behind it; above the horizon, what commits from now on.
        subscription.last = snapshot.horizon - 1n;
        if (snapshot.held) subscription.before = committedBefore(snapshot);
      } else {
        // Missed events, page by page; live ones meanwhile wait in the subscription.
        const identityId = options.filter.identityId;
        for (let after = subscription.last; ; ) {
          const { events } = await this.read(identityId ? 'identity' : 'all', after, identityId);
          for (const event of events) subscription.deliver(event);
          if (events.length < pageSize) break;
          after = events.at(-1)!.sequence;
        }
      }
      subscription.caughtUp();
    } catch (error) {
      await subscription.return();
      throw error;
    }
    return subscription;
  }

  private forget(subscription: Subscription): void {
    if (this.subscriptions.delete(subscription)) this.release(subscription.options.callerKey);
  }

  private release(callerKey: string): void {
    const held = (this.perCaller.get(callerKey) ?? 1) - 1;
    if (held > 0) this.perCaller.set(callerKey, held);
    else this.perCaller.delete(callerKey);
  }

  /** Ends every stream (clients resume elsewhere from their last event id) and stops tailing. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.heldTimer);
    for (const subscription of [...this.subscriptions]) subscription.end();
    this.reads.cancel();
    await this.reads.settled();
    await this.signals?.close();
  }
}
