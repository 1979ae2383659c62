// Sends due deliveries. Each attempt belongs to one instance: one statement locks candidate rows
// with FOR UPDATE SKIP LOCKED and leases them (lease_until, lease_token) for twice the request
// timeout, so no other instance takes them meanwhile; the outcome is written only
// under the same lease token. An instance killed mid-attempt writes nothing: the lease runs out and
// the attempt is made again (at least once). A failure waits out the retry schedule; an endpoint
// that has not succeeded for WEBHOOK_DISABLE_AFTER is disabled (disabled_at, disabled_reason, a
// warning in the log).
import { randomUUID } from 'node:crypto';
import { CoalescedTask } from '../coalesced-task.js';
import type { WebhooksConfig } from '../config.js';
import type { PrismaClient, WebhookEndpoint } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { checkedAddress, RefusedAddress, type Resolver } from './addresses.js';
import { post, PostFailure, type PostResult } from './http-post.js';
import { signatureHeader, unsealWebhookSecret } from './signing.js';
import { withSpan } from '../tracing.js';

/** How much of a response is read, and how much of that is kept. */
const maxResponseBytes = 64 * 1024;
const storedResponseChars = 2048;

export type DeliveryOutcome = 'success' | 'http_error' | 'timeout' | 'network_error' | 'refused';

export interface WorkerOptions {
  config: WebhooksConfig;
  /** TOKEN_KEY_SECRET, which unseals the endpoint secrets. */
  keySecret: string | undefined;
  logger: Logger;
  metrics?: Metrics;
  /** How often due deliveries are looked for without being told. */
  pollMs: number;
  resolve?: Resolver;
  now?: () => Date;
}

interface Claimed {
  id: string;
  endpoint_id: string;
  type: string;
  payload: string;
  attempts: number;
  lease_token: string;
}

/** The start of a receiver's answer, as PostgreSQL can store it (no NUL, no half of a surrogate pair). */
function storable(text: string): string {
  return text.slice(0, storedResponseChars).toWellFormed().replaceAll('\u0000', '\uFFFD');
}

/** The webhook id receivers see: stable per delivery (one event, one endpoint), whatever the attempt. */
export function webhookMessageId(deliveryId: string): string {
  return `msg_${deliveryId.replaceAll('-', '')}`;
}

export class WebhookWorker {
  private readonly inFlight = new Map<string, { endpointId: string; abort: AbortController; done: Promise<void> }>();
  private readonly perEndpoint = new Map<string, number>();
  /** Unsealed secrets by sealed value (AES-GCM and HKDF once per secret, not per attempt). */
  private readonly unsealed = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly claims = new CoalescedTask(
    () => (this.stopping ? Promise.resolve() : this.claimAndSend()),
    (error) => this.options.logger.warn('could not claim webhook deliveries; will try again', { error: (error as Error).message }),
  );
  private stopping = false;
  private readonly now: () => Date;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: WorkerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    this.timer = setInterval(() => this.poke(), this.options.pollMs);
    this.timer.unref();
    this.poke();
  }

  /** Looks for due deliveries now (coalesced like the event feed's reads). */
  poke(): void {
    if (this.stopping) return;
    this.claims.run();
  }

  private get leaseMs(): number {
    return 2 * this.options.config.timeoutMs;
  }

  private async claimAndSend(): Promise<void> {
    const { workers, endpointConcurrency } = this.options.config;
    const free = workers - this.inFlight.size;
    if (free <= 0) return;
    const now = this.now();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    const token = randomUUID();
    const held = [...this.perEndpoint];
    // Endpoints at their limit are left out before the window of candidates is taken, so a slow
    // endpoint's backlog does not fill it and hold up the others.
    const full = held.filter(([, count]) => count >= endpointConcurrency).map(([id]) => id);
    // One statement: candidates are locked (FOR UPDATE SKIP LOCKED: rows another instance is
    // claiming at this moment are passed over) and leased in the same breath, at most
    // endpointConcurrency per endpoint counting what this instance already has in flight. The
    // lease keeps other instances off once the statement has committed.
    const claimed = await this.prisma.$queryRaw<Claimed[]>`
      UPDATE webhook_deliveries SET lease_until = ${leaseUntil}, lease_token = ${token}::uuid
      WHERE id IN (
        SELECT ranked.id FROM (
          SELECT candidate.id, candidate.endpoint_id, candidate.next_attempt_at,
                 row_number() OVER (PARTITION BY candidate.endpoint_id ORDER BY candidate.next_attempt_at) AS rank
          FROM (
            SELECT d.id, d.endpoint_id, d.next_attempt_at FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
            WHERE d.state = 'PENDING' AND d.next_attempt_at <= ${now} AND (d.lease_until IS NULL OR d.lease_until <= ${now})
              AND e.disabled_at IS NULL AND NOT (d.endpoint_id = ANY(${full}::uuid[]))
            ORDER BY d.next_attempt_at
            LIMIT ${free * 4}
            FOR UPDATE OF d SKIP LOCKED
          ) candidate
        ) ranked
        LEFT JOIN unnest(${held.map(([id]) => id)}::uuid[], ${held.map(([, count]) => count)}::int[]) AS busy(endpoint_id, count) ON busy.endpoint_id = ranked.endpoint_id
        WHERE ranked.rank + COALESCE(busy.count, 0) <= ${endpointConcurrency}
        ORDER BY ranked.next_attempt_at
        LIMIT ${free}
      )
      RETURNING id, endpoint_id, type, payload, attempts, lease_token::text AS lease_token`;
    if (claimed.length === 0) return;
    const endpoints = new Map(
      (await this.prisma.webhookEndpoint.findMany({ where: { id: { in: [...new Set(claimed.map((row) => row.endpoint_id))] } } })).map((endpoint) => [endpoint.id, endpoint]),
    );
    for (const delivery of claimed) {
      const endpoint = endpoints.get(delivery.endpoint_id);
      if (!endpoint) continue; // deleted meanwhile: its deliveries went with it
      const abort = new AbortController();
      this.perEndpoint.set(endpoint.id, (this.perEndpoint.get(endpoint.id) ?? 0) + 1);
      // A span per attempt when tracing is on (src/tracing.ts runs it directly otherwise).
      const done = withSpan('sessiongraph.webhook_attempt', { 'webhook.endpoint_id': endpoint.id, 'webhook.event_type': delivery.type, 'webhook.attempt': delivery.attempts + 1 }, () =>
        this.attempt(delivery, endpoint, abort.signal),
      )
        .catch((error: unknown) => this.options.logger.warn('webhook attempt failed to record; its lease will run out and it is tried again', { delivery: delivery.id, error: (error as Error).message }))
        .finally(() => {
          this.inFlight.delete(delivery.id);
          const remaining = (this.perEndpoint.get(endpoint.id) ?? 1) - 1;
          if (remaining > 0) this.perEndpoint.set(endpoint.id, remaining);
          else this.perEndpoint.delete(endpoint.id);
          this.poke();
        });
      this.inFlight.set(delivery.id, { endpointId: endpoint.id, abort, done });
    }
    // A full batch: more may be due (asked from within the run, it runs once more after it).
    if (claimed.length >= free) this.claims.run();
  }

  /** The secrets that sign now: the current one, and a rotated-out one during its overlap. */
  private secrets(endpoint: WebhookEndpoint, now: Date): string[] {
    const keySecret = this.options.keySecret;
    if (!keySecret) throw new Error('no TOKEN_KEY_SECRET to unseal the endpoint secret with');
    const open = (sealed: string) => {
      let secret = this.unsealed.get(sealed);
      if (secret === undefined) {
        secret = unsealWebhookSecret(keySecret, sealed, endpoint.id);
        if (this.unsealed.size >= 1000) this.unsealed.clear();
        this.unsealed.set(sealed, secret);
      }
      return secret;
    };
    const secrets = [open(endpoint.sealedSecret)];
    if (endpoint.previousSealedSecret && endpoint.previousSecretUntil && endpoint.previousSecretUntil > now) secrets.push(open(endpoint.previousSealedSecret));
    return secrets;
  }

  private async attempt(delivery: Claimed, endpoint: WebhookEndpoint, signal: AbortSignal): Promise<void> {
    const now = this.now();
    const { config } = this.options;
    let result: PostResult | undefined;
    let problem: { outcome: Exclude<DeliveryOutcome, 'success' | 'http_error'>; message: string; durationMs: number } | undefined;
    try {
      const url = new URL(endpoint.url);
      // Again at delivery time: the name may point elsewhere now (DNS rebinding). The request
      // connects to the address checked here.
      const address = await checkedAddress(url.hostname, config.allowPrivate, this.options.resolve);
      const id = webhookMessageId(delivery.id);
      const timestamp = Math.floor(now.getTime() / 1000);
      const signature = signatureHeader(this.secrets(endpoint, now), id, timestamp, delivery.payload);
      const prefix = endpoint.format === 'CLERK' ? 'svix' : 'webhook';
      result = await post({
        url,
        address,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'sessiongraph-webhooks',
          [`${prefix}-id`]: id,
          [`${prefix}-timestamp`]: String(timestamp),
          [`${prefix}-signature`]: signature,
        },
        body: delivery.payload,
        timeoutMs: config.timeoutMs,
        maxBodyBytes: maxResponseBytes,
        signal,
      });
    } catch (error) {
      if (error instanceof PostFailure && error.kind === 'aborted') {
        // Stopping: hand the delivery back untouched, for the next instance to attempt at once.
        await this.prisma.webhookDelivery.updateMany({ where: { id: delivery.id, leaseToken: delivery.lease_token }, data: { leaseUntil: null, leaseToken: null } });
        return;
      }
      if (error instanceof RefusedAddress) problem = { outcome: 'refused', message: `refused: ${error.message}`, durationMs: 0 };
      else if (error instanceof PostFailure) problem = { outcome: error.kind === 'timeout' ? 'timeout' : 'network_error', message: error.message, durationMs: error.durationMs };
      else problem = { outcome: 'network_error', message: (error as Error).message, durationMs: 0 };
    }
    const success = result !== undefined && result.status >= 200 && result.status < 300;
    const outcome: DeliveryOutcome = success ? 'success' : (problem?.outcome ?? 'http_error');
    this.options.metrics?.webhookDeliveries.inc({ outcome });
    const attempts = delivery.attempts + 1;
    const schedule = config.retryScheduleMs;
    const retryIn = attempts <= schedule.length ? schedule[attempts - 1] : undefined;
    // The streak first: an endpoint this failure disables is disabled before its retry is due.
    if (!success) {
      this.options.logger.debug('webhook attempt failed', { delivery: delivery.id, endpoint: endpoint.id, outcome, status: result?.status, error: problem?.message, attempts });
      await this.recordFailure(endpoint.id, now);
    }
    const finished = this.now();
    const { count } = await this.prisma.webhookDelivery.updateMany({
      where: { id: delivery.id, leaseToken: delivery.lease_token },
      data: {
        attempts,
        state: success ? 'SUCCEEDED' : retryIn === undefined ? 'FAILED' : 'PENDING',
        nextAttemptAt: success || retryIn === undefined ? null : new Date(finished.getTime() + retryIn),
        leaseUntil: null,
        leaseToken: null,
        lastAttemptAt: now,
        lastStatusCode: result?.status ?? null,
        lastDurationMs: result?.durationMs ?? problem?.durationMs ?? null,
        lastError: problem?.message ?? null,
        lastResponseBody: result ? storable(result.body) : null,
        ...(success ? { deliveredAt: finished } : {}),
      },
    });
    // A success ends the endpoint's failure streak (count 0: replayed or deleted meanwhile, and that
    // newer state stands). The streak is as read at the claim: one begun since ends on the next success.
    if (count > 0 && success && endpoint.failingSince) {
      await this.prisma.webhookEndpoint.updateMany({ where: { id: endpoint.id, failingSince: { not: null } }, data: { failingSince: null } });
    }
  }

  /** Starts or continues the endpoint's failure streak; one that lasted WEBHOOK_DISABLE_AFTER disables it. */
  private async recordFailure(endpointId: string, at: Date): Promise<void> {
    const [streak] = await this.prisma.$queryRaw<{ failing_since: Date }[]>`
      UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ${at}) WHERE id = ${endpointId}::uuid RETURNING failing_since`;
    if (!streak || at.getTime() - streak.failing_since.getTime() < this.options.config.disableAfterMs) return;
    const reason = `no successful delivery since ${streak.failing_since.toISOString()} (WEBHOOK_DISABLE_AFTER)`;
    const { count } = await this.prisma.webhookEndpoint.updateMany({ where: { id: endpointId, disabledAt: null }, data: { disabledAt: at, disabledReason: reason } });
    if (count > 0) this.options.logger.warn('webhook endpoint disabled', { endpoint: endpointId, reason });
  }

  /** Stops claiming; attempts in flight get `graceMs` to finish, then are handed back unattempted. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.claims.settled();
    const pending = [...this.inFlight.values()];
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(pending.map((entry) => entry.done)), grace]);
    for (const entry of this.inFlight.values()) entry.abort.abort();
    await Promise.all([...this.inFlight.values()].map((entry) => entry.done));
  }
}
