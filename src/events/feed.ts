// The live side of the audit trail. Each instance tails the event table in sequence order (which is
// commit order, see record.ts) and hands every new event to the subscriptions that want it. A
// notification (LISTEN/NOTIFY, Redis or a local commit) makes it read at once; a slow poll catches
// anything a lost notification would have left behind. Subscriptions that resume from an earlier
// event read what they missed from the table first, then continue live: no gap, no duplicate.
import type { PrismaClient, SessionEvent } from '../generated/prisma/client.js';
import type { SessionEventType } from '../generated/prisma/enums.js';
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
  private cursor: bigint | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private readonly perCaller = new Map<string, number>();
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: FeedOptions,
    private readonly signals?: EventSignals,
  ) {}

  /** Starts tailing (once; subscribing starts it too). */
  start(): Promise<void> {
    return (this.started ??= (async () => {
      this.cursor = await this.maxSequence();
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
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.readNew()
      .catch((error: unknown) => this.options.logger.warn('could not read new events; will try again', { error: (error as Error).message }))
      .finally(() => {
        this.reading = undefined;
        if (this.readAgain) {
          this.readAgain = false;
          this.poke();
        }
      });
  }

  private async readNew(): Promise<void> {
    for (;;) {
      const rows = await this.prisma.sessionEvent.findMany({ where: { sequence: { gt: this.cursor } }, orderBy: { sequence: 'asc' }, take: pageSize });
      for (const row of rows) {
        this.cursor = row.sequence;
        for (const subscription of this.subscriptions) subscription.offer(row);
      }
      if (rows.length < pageSize) return;
    }
  }

  private async maxSequence(): Promise<bigint> {
    const newest = await this.prisma.sessionEvent.findFirst({ orderBy: { sequence: 'desc' }, select: { sequence: true } });
    return newest?.sequence ?? 0n;
  }

  /** How many live subscriptions this instance holds. */
  get size(): number {
    return this.subscriptions.size;
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
    let subscription: Subscription;
    try {
      await this.start();
      const from = options.afterSequence ?? (await this.maxSequence());
      subscription = new Subscription(options, from, this.options.maxQueuedEvents, (ended) => this.forget(ended));
    } catch (error) {
      this.release(options.callerKey);
      throw error;
    }
    this.subscriptions.add(subscription);
    if (options.endsAt) {
      const timer = setTimeout(() => subscription.end(), Math.max(0, options.endsAt.getTime() - Date.now()));
      timer.unref();
      subscription.onFinish(() => clearTimeout(timer));
    }
    try {
      // Missed events, page by page; live ones meanwhile wait in the subscription.
      for (;;) {
        const rows = await this.prisma.sessionEvent.findMany({
          where: {
            sequence: { gt: subscription.last },
            ...(options.filter.identityId ? { identityId: options.filter.identityId } : {}),
          },
          orderBy: { sequence: 'asc' },
          take: pageSize,
        });
        for (const row of rows) subscription.deliver(row);
        if (rows.length < pageSize) break;
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
    for (const subscription of [...this.subscriptions]) subscription.end();
    await this.reading;
    await this.signals?.close();
  }
}
