// Turns committed events into deliveries. The dispatcher follows the event feed (so it sees events
// in the feed's order, exactly those that committed) from a cursor kept in the database — the last
// event it queued deliveries for — so events committed while no server ran (an import, the demo)
// are delivered at the next start. Every instance dispatches every event: a delivery is unique per
// (endpoint, event) and inserted with ON CONFLICT DO NOTHING, so the instances agree on one.
import { internalCallerPrefix, type AlongsideValue, type EventFeed, type FeedItem } from '../events/feed.js';
import { Prisma, type PrismaClient, type SessionEvent } from '../generated/prisma/client.js';
import type { WebhookFormat } from '../generated/prisma/enums.js';
import type { Logger } from '../logger.js';
import { clerkEventType, clerkPayload, standardPayload, webhookEventTypes } from './payloads.js';
import type { ClerkSessionData } from './clerk-data.js';

const cursorName = 'webhooks';
/** How often the cursor is written while events flow (a restart re-queues at most this much, idempotently). */
const cursorWriteMs = 500;
const retryMs = 1000;
/** The event types some enabled endpoint wants. */
const wantedTypesSql = `ARRAY(SELECT DISTINCT unnest(event_types)::text FROM webhook_endpoints WHERE disabled_at IS NULL)`;

interface Position {
  eventId: string | null;
  sequence: bigint;
}

export interface DispatcherOptions {
  logger: Logger;
  /** Clerk's Session JSON for a session, for CLERK endpoints. */
  clerkSession: ClerkSessionData;
  /** Told when deliveries were queued (the worker looks at once). */
  onQueued?: () => void;
}

export class WebhookDispatcher {
  private position: Position | undefined;
  private written: Position | undefined;
  private subscription: AsyncIterableIterator<FeedItem> | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private cursorTimer: NodeJS.Timeout | undefined;
  /** The event types some enabled endpoint wants, read with the events (see nobodyWants). */
  private readonly wantedTypes: () => AlongsideValue | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly feed: EventFeed,
    private readonly options: DispatcherOptions,
  ) {
    this.wantedTypes = feed.readAlongside(wantedTypesSql);
  }

  async start(): Promise<void> {
    this.position = await this.readCursor();
    this.written = this.position;
    this.running = this.follow();
    this.cursorTimer = setInterval(() => void this.writeCursor().catch(() => {}), cursorWriteMs);
    this.cursorTimer.unref();
  }

  /** Where the last dispatcher stopped; a first start begins after the newest event. */
  private async readCursor(): Promise<Position> {
    const row = await this.prisma.webhookCursor.findUnique({ where: { name: cursorName } });
    if (row) return { eventId: row.lastEventId, sequence: row.lastSequence };
    const newest = await this.prisma.sessionEvent.findFirst({ orderBy: { sequence: 'desc' }, select: { id: true, sequence: true } });
    const start = { eventId: newest?.id ?? null, sequence: newest?.sequence ?? 0n };
    await this.prisma.webhookCursor.createMany({ data: [{ name: cursorName, lastEventId: start.eventId, lastSequence: start.sequence }], skipDuplicates: true });
    return start;
  }

  private async writeCursor(): Promise<void> {
    const position = this.position;
    if (!position || position === this.written) return;
    // Several instances write it; any value one wrote is a point up to which every event is queued.
    await this.prisma.webhookCursor.update({ where: { name: cursorName }, data: { lastEventId: position.eventId, lastSequence: position.sequence } });
    this.written = position;
  }

  private async follow(): Promise<void> {
    while (!this.stopping) {
      try {
        this.subscription = await this.feed.subscribe({ filter: {}, afterSequence: this.position!.sequence, callerKey: `${internalCallerPrefix}webhook-dispatcher` });
        if (this.stopping) await this.subscription.return?.();
        for await (const item of this.subscription) {
          // Fell behind the feed's queue: resume from the last event queued, reading the table.
          if (item.kind === 'overflow') break;
          await this.dispatch(item.event);
          this.position = { eventId: item.event.id, sequence: item.event.sequence };
        }
      } catch (error) {
        if (this.stopping || (error as { extensions?: { code?: string } }).extensions?.code === 'SHUTTING_DOWN') return;
        this.options.logger.warn('webhook dispatch failed; will resume from the last event queued', { error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    }
  }

  /**
   * Whether no endpoint can want this event, without a statement per event (an import commits
   * thousands, and on the embedded database every statement waits for the one connection). The
   * types come from the feed's own statement, read in the snapshot that found the event: an
   * endpoint created or enabled (on any instance) before the event happened had committed before
   * the event did (but for an event during the creating statement itself), so that snapshot sees
   * it; one that commits later is newer than the event and
   * gets no delivery of it anyway (`created_at <= occurredAt`, and events while disabled are not
   * queued). No clock is compared. An event below no such read's horizon (none is known: a read in
   * flight when the dispatcher registered) has the types read for it, after it committed.
   */
  private async nobodyWants(event: SessionEvent): Promise<boolean> {
    const known = this.wantedTypes();
    if (known && event.sequence < known.below) return !(known.value as string[]).includes(event.type);
    const rows = await this.prisma.$queryRawUnsafe<{ types: string[] }[]>(`SELECT ${wantedTypesSql} AS types`);
    return !rows[0]!.types.includes(event.type);
  }

  /** Queues the event for every enabled endpoint that wants it and existed when it happened. */
  async dispatch(event: SessionEvent): Promise<number> {
    if (await this.nobodyWants(event)) return 0;
    // STANDARD endpoints in one statement (the payload is the event's alone); CLERK ones, which
    // need the session read, only for an event Clerk has a webhook for. Raw SQL: Prisma's `has` on
    // an enum array sends a malformed array literal through the driver adapters.
    const wanted = (format: WebhookFormat) => Prisma.sql`
      FROM webhook_endpoints
      WHERE format = ${format}::"WebhookFormat" AND disabled_at IS NULL
        AND ${event.type}::"SessionEventType" = ANY(event_types) AND created_at <= ${event.occurredAt}`;
    let queued = await this.prisma.$executeRaw`
      INSERT INTO webhook_deliveries (id, endpoint_id, event_id, type, payload)
      SELECT gen_random_uuid(), id, ${event.id}::uuid, ${webhookEventTypes[event.type]}, ${standardPayload(event)} ${wanted('STANDARD')}
      ON CONFLICT (endpoint_id, event_id) DO NOTHING`;
    const clerkType = clerkEventType(event);
    if (clerkType) {
      const endpoints = await this.prisma.$queryRaw<{ id: string }[]>`SELECT id ${wanted('CLERK')}`;
      const session = endpoints.length > 0 ? await this.options.clerkSession(this.prisma, event.sessionId!) : undefined;
      if (session) {
        const payload = clerkPayload(clerkType, event.occurredAt, session);
        const rows = endpoints.map((endpoint) => ({ endpointId: endpoint.id, eventId: event.id, type: clerkType, payload }));
        queued += (await this.prisma.webhookDelivery.createMany({ data: rows, skipDuplicates: true })).count;
      }
    }
    if (queued > 0) this.options.onQueued?.();
    return queued;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.cursorTimer);
    await this.subscription?.return?.();
    await this.running;
    await this.writeCursor().catch((error: unknown) => this.options.logger.warn('could not save the webhook cursor', { error: (error as Error).message }));
  }
}
