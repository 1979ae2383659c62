// Prometheus metrics (prom-client), one registry per server: requests and latency per operation,
// errors by code, database statement time and pool use, rate-limit refusals, challenges by outcome,
// revocations, and Node's process metrics. Labels take bounded values only, so a client cannot
// grow the registry: operation names beyond the first few hundred count as "other".
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const maxOperationNames = 200;
const operationName = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface Metrics {
  registry: Registry;
  /** An operation's name as a label: its own when sane and among the first seen, else "anonymous"/"other". */
  operationLabel(name: string | null | undefined): string;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  operationDuration: Histogram<'operation' | 'type'>;
  /** Operations by the path that answered them: `planner` (one SQL statement) or `resolvers`. */
  operationsAnswered: Counter<'path'>;
  errors: Counter<'code'>;
  statementDuration: Histogram;
  rateLimitRefusals: Counter<'limit'>;
  /** Failed authentications naming an API token id that had already failed past the limit in the window (never refused for it). */
  apiTokenFailuresPastLimit: Counter;
  challenges: Counter<'operation' | 'outcome'>;
  revocations: Counter<'kind'>;
  /** Reports a PostgreSQL pool's use at every scrape. */
  watchPool(stats: () => PoolStats | undefined): void;
  /** Reports the live subscriptions this instance holds at every scrape. */
  watchSubscriptions(count: () => number): void;
  /** Webhook attempts by outcome (success, http_error, timeout, network_error, refused). */
  webhookDeliveries: Counter<'outcome'>;
  /** Reports the webhook queue (pending deliveries, the oldest one's wait) at every scrape. */
  watchWebhookQueue(stats: () => Promise<WebhookQueueStats>): void;
}

export interface WebhookQueueStats {
  depth: number;
  oldestAgeSeconds: number;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sessiongraph_' });
  const seen = new Set<string>();
  let pool: (() => PoolStats | undefined) | undefined;
  let subscriptions: (() => number) | undefined;
  let webhookQueue: (() => Promise<WebhookQueueStats>) | undefined;
  // Both webhook gauges are read from one query per scrape.
  let queueRead: { at: number; stats: Promise<WebhookQueueStats | undefined> } | undefined;
  const readQueue = () => {
    if (!queueRead || Date.now() - queueRead.at > 1000) queueRead = { at: Date.now(), stats: webhookQueue?.().catch(() => undefined) ?? Promise.resolve(undefined) };
    return queueRead.stats;
  };
  new Gauge({
    name: 'sessiongraph_subscriptions',
    help: 'Live event subscriptions of clients (SSE and WebSocket) this instance holds.',
    registers: [registry],
    collect() {
      this.set(subscriptions?.() ?? 0);
    },
  });
  const webhookGauges: [string, string, (stats: WebhookQueueStats) => number][] = [
    ['sessiongraph_webhook_queue_depth', 'Webhook deliveries waiting for an attempt (enabled endpoints; every instance reports the shared queue).', (stats) => stats.depth],
    ['sessiongraph_webhook_oldest_pending_seconds', 'How long the oldest waiting webhook delivery has waited (0 when none waits).', (stats) => stats.oldestAgeSeconds],
  ];
  for (const [name, help, value] of webhookGauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const stats = await readQueue();
        if (stats) this.set(value(stats));
      },
    });
  }
  new Gauge({
    name: 'sessiongraph_db_pool_connections',
    help: 'PostgreSQL pool connections by state (total, idle, waiting clients); absent on the embedded database.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = pool?.();
      if (!stats) return;
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
  return {
    registry,
    operationLabel(name) {
      if (!name) return 'anonymous';
      if (!operationName.test(name)) return 'other';
      if (seen.has(name)) return name;
      if (seen.size >= maxOperationNames) return 'other';
      seen.add(name);
      return name;
    },
    httpRequests: new Counter({ name: 'sessiongraph_http_requests_total', help: 'HTTP requests by method, route and status.', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    operationDuration: new Histogram({
      name: 'sessiongraph_graphql_operation_duration_seconds',
      help: 'GraphQL operations by name and type: count and time from parse to result.',
      labelNames: ['operation', 'type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    operationsAnswered: new Counter({
      name: 'sessiongraph_graphql_operations_total',
      help: 'GraphQL operations executed, by the path that answered them: planner (one SQL statement) or resolvers.',
      labelNames: ['path'],
      registers: [registry],
    }),
    errors: new Counter({ name: 'sessiongraph_graphql_errors_total', help: 'GraphQL errors by extensions.code.', labelNames: ['code'], registers: [registry] }),
    statementDuration: new Histogram({
      name: 'sessiongraph_db_statement_duration_seconds',
      help: 'SQL statements sent by Prisma, and their time.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    rateLimitRefusals: new Counter({ name: 'sessiongraph_rate_limit_refusals_total', help: 'Requests refused by a rate limit (429), by limit.', labelNames: ['limit'], registers: [registry] }),
    apiTokenFailuresPastLimit: new Counter({
      name: 'sessiongraph_api_token_failures_past_limit_total',
      help: 'Failed authentications naming an API token id that had already failed RATE_LIMIT_AUTH_FAILURES times in the window, from any address (counted, never refused for the id).',
      registers: [registry],
    }),
    challenges: new Counter({
      name: 'sessiongraph_challenges_total',
      help: 'Signed-request challenges by operation and outcome: issued, confirmed, or the error code that failed a confirmation.',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    revocations: new Counter({ name: 'sessiongraph_revocations_total', help: 'Sessions revoked, by how.', labelNames: ['kind'], registers: [registry] }),
    watchPool(stats) {
      pool = stats;
    },
    watchSubscriptions(count) {
      subscriptions = count;
    },
    webhookDeliveries: new Counter({
      name: 'sessiongraph_webhook_deliveries_total',
      help: 'Webhook attempts by outcome: success (2xx), http_error, timeout, network_error, refused (the address check).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    watchWebhookQueue(stats) {
      webhookQueue = stats;
    },
  };
}
