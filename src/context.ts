// What every resolver receives. Built per request by the server from the Database it was given.
import type { Caller, PendingSession } from './auth/caller.js';
import type { Database } from './db/database.js';
import type { AuthConfig, EventsConfig } from './config.js';
import type { EventFeed } from './events/feed.js';
import type { EventThrottle } from './events/throttle.js';
import type { PrismaClient } from './generated/prisma/client.js';
import type { RecentChallenges } from './revocation/recent-challenges.js';
import type { ConfirmedOperation } from './revocation/service.js';
import type { Limiter } from './limiter.js';
import type { Loaders } from './loaders.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { SessionTokens } from './tokens/session-tokens.js';
import type { WebhookSettings } from './webhooks/endpoints.js';

export interface Context {
  prisma: PrismaClient;
  /** Batching loaders, new for each request. */
  loaders: Loaders;
  logger: Logger;
  requestId: string;
  /** Null for a request without credentials: it may read the schema and nothing else. */
  caller: Caller | null;
  /** A session token the planned read checks itself; settled (caller set) before anything else reads data. */
  pendingSession?: PendingSession;
  /** A signed operation's challenge (and possible signers), read with the pending session's authentication (revocation/service.ts). */
  challengeRead?: { requestId: string; row: Record<string, unknown> | undefined };
  /** A signed operation's step two that a planned write did but did not answer: the resolvers answer with its outcome (revocation/requests.ts). */
  settledConfirmation?: { requestId: string; signature: string } & ({ confirmed: ConfirmedOperation } | { error: unknown });
  auth: AuthConfig;
  limiter: Limiter;
  metrics: Metrics;
  /** Session tokens (JWTs); undefined when no TOKEN_KEY_SECRET is configured. */
  tokens?: SessionTokens;
  /** The most a connection returns per page (MAX_PAGE_SIZE). */
  maxPageSize: number;
  /** The clock; tests move it. */
  now(): Date;
  /** The client's address, as the request's proxies tell it (events record it for admins). */
  clientAddress: string;
  /** A statement straight to the driver (planned reads, and writes that are one statement), prepared on PostgreSQL. */
  readQuery(text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Statements straight to the driver in one transaction on one connection (planned writes that lock first). */
  transaction: Database['transaction'];
  /** The database has one connection (the embedded one): an open transaction has it to itself. */
  oneConnection: boolean;
  /** Live events: told of commits, serves subscriptions. */
  events: EventFeed;
  eventSettings: EventsConfig;
  /** Signed revocations this instance handed out: confirmed here without a read first (revocation/recent-challenges.ts). */
  recentChallenges: RecentChallenges;
  /** Throttled events (activity, token issued), written without a read first. */
  eventThrottle: EventThrottle;
  /** SSE `Last-Event-ID`: where a reconnecting subscription resumes. */
  lastEventId?: string;
  /** What managing webhook endpoints needs: the sealing secret, the address policy. */
  webhooks: WebhookSettings;
  /** The id of the event a subscription delivered last (what the stream's next message carries). */
  deliveredEventId?: string;
}
