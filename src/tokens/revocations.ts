// The session JWTs to refuse without asking the database: every instance keeps, in memory, the
// sessions that ended and the identities that were deactivated while a token of theirs may still
// pass its expiry check. The set follows the live event feed the instance already runs (LISTEN/
// NOTIFY or Redis bring other instances' commits within a second) and is rebuilt from the event
// table at start: subscribed first, then loaded, so an event committed in between is in one or the
// other. An entry leaves once every token that could name it has expired.
import type { PrismaClient, SessionEvent } from '../generated/prisma/client.js';
import { internalCallerPrefix, type EventFeed, type FeedItem } from '../events/feed.js';
import { standingChange, standingEventTypes, type Standing } from '../events/session-ends.js';
import type { Logger } from '../logger.js';

export interface RevocationSetOptions {
  /** How long after a session ends (or its identity is deactivated) one of its tokens may still pass. */
  keepMs: number;
  now: () => Date;
  logger: Logger;
}

type StandingEvent = Pick<SessionEvent, 'sequence' | 'type' | 'sessionId' | 'identityId' | 'details' | 'occurredAt'>;

const callerKey = `${internalCallerPrefix}revocation-set`;
const pageSize = 5000;
const purgeEveryMs = 60_000;
const retryMs = 1000;

export class RevocationSet {
  /** Session id → until when its tokens are refused (ms). */
  private readonly sessions = new Map<string, number>();
  /** Identity id → the same, for a deactivated identity's sessions. */
  private readonly identities = new Map<string, number>();
  private starting: Promise<void> | undefined;
  private loaded = false;
  /** Live events that arrived while the table was still being read. */
  private buffered: SessionEvent[] | undefined;
  private stream: AsyncIterableIterator<FeedItem> | undefined;
  /** The newest event seen: a replaced subscription resumes after it. */
  private lastSequence: bigint | undefined;
  private lastPurge = 0;
  private closed = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly feed: EventFeed,
    private readonly options: RevocationSetOptions,
  ) {}

  /** Whether the set is complete (loaded and following the feed): until then, use start(). */
  get ready(): boolean {
    return this.loaded;
  }

  /** How many sessions and identities it refuses now. */
  get size(): { sessions: number; identities: number } {
    this.purge(this.options.now().getTime(), true);
    return { sessions: this.sessions.size, identities: this.identities.size };
  }

  /** Follows the feed, then loads what the table holds; resolves once complete (again after a failure). */
  start(): Promise<void> {
    return (this.starting ??= this.open().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    }));
  }

  /** Why a token of this session is refused ('session' ended, or its 'identity' is inactive), or undefined. */
  refuses(sessionId: string, identityId: string): 'session' | 'identity' | undefined {
    const now = this.options.now().getTime();
    this.purge(now);
    if ((this.sessions.get(sessionId) ?? 0) > now) return 'session';
    if ((this.identities.get(identityId) ?? 0) > now) return 'identity';
    return undefined;
  }

  close(): void {
    this.closed = true;
    this.drop();
  }

  /** Ends the current subscription without following the feed again. */
  private drop(): void {
    const stream = this.stream;
    this.stream = undefined;
    void stream?.return?.();
  }

  private async open(): Promise<void> {
    this.buffered = [];
    await this.follow();
    try {
      await this.load();
    } catch (error) {
      this.drop(); // the next start() follows the feed afresh
      throw error;
    }
  }

  private async load(): Promise<void> {
    const since = new Date(this.options.now().getTime() - this.options.keepMs);
    // Page by page, in order; each session's and identity's newest event read is remembered, so
    // that a live event that arrived meanwhile counts only when it is newer.
    const newestRead = new Map<string, bigint>();
    let read = 0;
    for (let after: bigint | undefined; ; ) {
      const page = await this.prisma.sessionEvent.findMany({
        where: { type: { in: [...standingEventTypes] }, occurredAt: { gte: since }, ...(after === undefined ? {} : { sequence: { gt: after } }) },
        select: { sequence: true, type: true, sessionId: true, identityId: true, details: true, occurredAt: true },
        orderBy: { sequence: 'asc' },
        take: pageSize,
      });
      for (const event of page) {
        const standing = this.apply(event, false);
        if (standing) newestRead.set(`${standing.of}:${standing.id}`, event.sequence);
      }
      read += page.length;
      if (page.length < pageSize) break;
      after = page.at(-1)!.sequence;
    }
    const buffered = (this.buffered ?? []).sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
    this.buffered = undefined;
    for (const event of buffered) {
      const standing = standingChange(event);
      if (standing && (newestRead.get(`${standing.of}:${standing.id}`) ?? -1n) >= event.sequence) continue;
      this.apply(event, true);
    }
    this.loaded = true;
    const size = this.size;
    this.options.logger.info('revocation set loaded', { sessions: size.sessions, identities: size.identities, events: read });
  }

  /** Subscribes to the feed (from now, or after the last event seen) and consumes it in the background. */
  private async follow(): Promise<void> {
    const stream = await this.feed.subscribe({
      filter: { types: new Set(standingEventTypes) },
      callerKey,
      ...(this.lastSequence === undefined ? {} : { afterSequence: this.lastSequence }),
    });
    this.stream = stream;
    void this.consume(stream);
  }

  private async consume(stream: AsyncIterableIterator<FeedItem>): Promise<void> {
    try {
      for await (const item of stream) {
        if (item.kind !== 'event') break; // fell behind: resubscribe after the last event seen
        this.lastSequence = item.event.sequence;
        if (this.buffered) this.buffered.push(item.event);
        else this.apply(item.event, true);
      }
    } catch (error) {
      this.options.logger.warn('revocation set: the event feed failed; following it again', { error: (error as Error).message });
    }
    if (this.stream !== stream) return; // dropped on purpose
    this.stream = undefined;
    this.resubscribe();
  }

  private resubscribe(): void {
    if (this.closed) return;
    this.follow().catch((error: unknown) => {
      // A feed that is shutting down ends the set with it.
      if ((error as { extensions?: { code?: string } }).extensions?.code === 'SHUTTING_DOWN') return;
      this.options.logger.warn('revocation set: cannot follow the event feed; trying again', { error: (error as Error).message });
      setTimeout(() => this.resubscribe(), retryMs).unref();
    });
  }

  /** Applies one event; returns what it said, if anything. */
  private apply(event: StandingEvent, live: boolean): Standing | undefined {
    const standing = standingChange(event);
    if (!standing) return undefined;
    const map = standing.of === 'session' ? this.sessions : this.identities;
    if (!standing.ends) {
      map.delete(standing.id);
      return standing;
    }
    // From when the end was known here (or, read from the table, when it happened) on.
    const now = this.options.now().getTime();
    const until = Math.max(event.occurredAt.getTime(), live ? now : 0) + this.options.keepMs;
    if (until > now) map.set(standing.id, Math.max(until, map.get(standing.id) ?? 0));
    this.purge(now);
    return standing;
  }

  /** Drops entries no unexpired token can name (at most once a minute unless forced). */
  private purge(now: number, force = false): void {
    if (!force && now - this.lastPurge < purgeEveryMs) return;
    this.lastPurge = now;
    for (const map of [this.sessions, this.identities]) {
      for (const [id, until] of map) if (until <= now) map.delete(id);
    }
  }
}
