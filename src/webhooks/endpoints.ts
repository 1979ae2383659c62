// Webhook endpoints as admins manage them: checked input (each problem names its field), the secret
// made here and shown once, sealed at rest; rotation keeps the old secret signing beside the new one
// for a day; test messages and replays are deliveries like any other.
import { uuidv7 } from 'uuidv7';
import { encodeGlobalId } from '../domain/global-id.js';
import { badUserInput, codedError } from '../errors.js';
import type { PrismaClient, WebhookDelivery, WebhookEndpoint } from '../generated/prisma/client.js';
import type { SessionEventType, WebhookFormat } from '../generated/prisma/enums.js';
import { checkedAddress, RefusedAddress, UnresolvedHost, type Resolver } from './addresses.js';
import { clerkEventTypes, testPayload } from './payloads.js';
import { newWebhookSecret, sealWebhookSecret } from './signing.js';

/** How long a rotated-out secret keeps signing beside the new one. */
export const rotationOverlapMs = 24 * 3_600_000;

/** What managing endpoints needs of the server's settings. */
export interface WebhookSettings {
  /** TOKEN_KEY_SECRET: seals the endpoint secrets; webhooks are off without it. */
  keySecret?: string;
  allowPrivate: boolean;
  /** How host names are resolved for the address check (the system's by default). */
  resolve?: Resolver;
}

function invalid(field: string, problem: string) {
  return badUserInput(`${field}: ${problem}`, { field });
}

function keySecretOf(settings: WebhookSettings): string {
  if (!settings.keySecret) {
    throw codedError('WEBHOOKS_NOT_CONFIGURED', 'Webhooks are off on this server: their secrets are sealed with TOKEN_KEY_SECRET; give every instance the same one');
  }
  return settings.keySecret;
}

/** A `WebhookEndpoint:<uuid>` / `WebhookDelivery:<uuid>` id's uuid; anything else names the field. */
export function webhookObjectId(value: string, type: 'WebhookEndpoint' | 'WebhookDelivery', field: string): string {
  const match = new RegExp(`^${type}:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`, 'i').exec(value);
  if (!match) throw invalid(field, `expected an id "${type}:<uuid>", got ${JSON.stringify(value)}`);
  return match[1]!.toLowerCase();
}

export const endpointGlobalId = (id: string) => encodeGlobalId('WebhookEndpoint', id);
export const deliveryGlobalId = (id: string) => encodeGlobalId('WebhookDelivery', id);

/**
 * A URL a webhook may be sent to: http(s), no credentials in it, not resolving to a refused address.
 * A name that resolves to nothing yet is taken: every delivery resolves and checks it again.
 */
export async function checkWebhookUrl(raw: string, field: string, settings: WebhookSettings): Promise<string> {
  const text = raw.trim();
  if (text.length > 2048) throw invalid(field, 'must be at most 2048 characters');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(field, `${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(field, `must be an http:// or https:// URL, got ${url.protocol}`);
  if (url.username || url.password) throw invalid(field, 'must not carry a user name or password (the signature authenticates the request)');
  url.hash = '';
  try {
    await checkedAddress(url.hostname, settings.allowPrivate, settings.resolve);
  } catch (error) {
    if (error instanceof RefusedAddress && !(error instanceof UnresolvedHost)) throw invalid(field, `refused: ${error.message}`);
    if (!(error instanceof UnresolvedHost)) throw error;
  }
  return url.toString();
}

function checkEventTypes(types: readonly SessionEventType[], format: WebhookFormat, field: string): SessionEventType[] {
  const unique = [...new Set(types)];
  if (unique.length === 0) throw invalid(field, 'name at least one event type');
  if (format === 'CLERK') {
    const unsupported = unique.filter((type) => !clerkEventTypes.includes(type));
    if (unsupported.length > 0) {
      throw invalid(field, `Clerk has no webhook for ${unsupported.join(', ')}; a CLERK endpoint takes ${clerkEventTypes.join(', ')}`);
    }
  }
  return unique;
}

function description(value: string | null | undefined, field: string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const trimmed = value.trim();
  if (trimmed.length > 1024) throw invalid(field, 'must be at most 1024 characters');
  return trimmed || null;
}

async function endpointOrNotFound(prisma: PrismaClient, id: string): Promise<WebhookEndpoint> {
  const endpoint = await prisma.webhookEndpoint.findUnique({ where: { id } });
  if (!endpoint) throw codedError('NOT_FOUND', `No webhook endpoint ${endpointGlobalId(id)}`, { field: 'input.endpointId' });
  return endpoint;
}

export interface NewEndpoint {
  url: string;
  eventTypes: readonly SessionEventType[];
  format?: WebhookFormat | null;
  description?: string | null;
}

/** Creates an endpoint; the secret is returned here only. Events from `now` on are delivered to it. */
export async function createWebhookEndpoint(prisma: PrismaClient, settings: WebhookSettings, input: NewEndpoint, now: Date): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const keySecret = keySecretOf(settings);
  const format = input.format ?? 'STANDARD';
  const eventTypes = checkEventTypes(input.eventTypes, format, 'input.eventTypes');
  const text = description(input.description, 'input.description');
  const url = await checkWebhookUrl(input.url, 'input.url', settings);
  const id = uuidv7();
  const secret = newWebhookSecret();
  const endpoint = await prisma.webhookEndpoint.create({
    data: { id, url, eventTypes, format, description: text ?? null, sealedSecret: sealWebhookSecret(keySecret, secret, id), createdAt: now },
  });
  return { endpoint, secret };
}

export interface EndpointChanges {
  url?: string | null;
  eventTypes?: readonly SessionEventType[] | null;
  description?: string | null;
  /** false disables it (nothing is sent, new events are not queued for it); true enables it again. */
  enabled?: boolean | null;
}

export async function updateWebhookEndpoint(prisma: PrismaClient, settings: WebhookSettings, id: string, changes: EndpointChanges, now: Date): Promise<WebhookEndpoint> {
  const endpoint = await endpointOrNotFound(prisma, id);
  const data: Partial<Pick<WebhookEndpoint, 'url' | 'eventTypes' | 'description' | 'disabledAt' | 'disabledReason' | 'failingSince'>> = {};
  if (changes.eventTypes != null) data.eventTypes = checkEventTypes(changes.eventTypes, endpoint.format, 'input.eventTypes');
  if (changes.description !== undefined) data.description = description(changes.description, 'input.description') ?? null;
  if (changes.url != null) data.url = await checkWebhookUrl(changes.url, 'input.url', settings);
  if (changes.enabled === false && !endpoint.disabledAt) Object.assign(data, { disabledAt: now, disabledReason: 'disabled by an administrator' });
  // Enabled again: its failure streak starts over, or it would be disabled again at once.
  if (changes.enabled === true && endpoint.disabledAt) Object.assign(data, { disabledAt: null, disabledReason: null, failingSince: null });
  return prisma.webhookEndpoint.update({ where: { id }, data });
}

/** Deletes the endpoint and its deliveries (pending ones are not sent). */
export async function deleteWebhookEndpoint(prisma: PrismaClient, id: string): Promise<void> {
  const { count } = await prisma.webhookEndpoint.deleteMany({ where: { id } });
  if (count === 0) throw codedError('NOT_FOUND', `No webhook endpoint ${endpointGlobalId(id)}`, { field: 'input.endpointId' });
}

/** A new secret; the current one keeps signing beside it for rotationOverlapMs (receivers switch meanwhile). */
export async function rotateWebhookSecret(prisma: PrismaClient, settings: WebhookSettings, id: string, now: Date): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const keySecret = keySecretOf(settings);
  const endpoint = await endpointOrNotFound(prisma, id);
  const secret = newWebhookSecret();
  const updated = await prisma.webhookEndpoint.update({
    where: { id },
    data: {
      sealedSecret: sealWebhookSecret(keySecret, secret, id),
      previousSealedSecret: endpoint.sealedSecret,
      previousSecretUntil: new Date(now.getTime() + rotationOverlapMs),
    },
  });
  return { endpoint: updated, secret };
}

/** Queues a `webhook.test` message for the endpoint, sent like any delivery. */
export async function sendTestWebhook(prisma: PrismaClient, id: string, now: Date): Promise<WebhookDelivery> {
  const endpoint = await endpointOrNotFound(prisma, id);
  if (endpoint.disabledAt) throw codedError('CONFLICT', `Webhook endpoint ${endpointGlobalId(id)} is disabled; enable it first (updateWebhookEndpoint)`);
  return prisma.webhookDelivery.create({
    data: { endpointId: id, eventId: null, type: 'webhook.test', payload: testPayload(endpoint.format, id, now), nextAttemptAt: now, createdAt: now },
  });
}

/**
 * Sends a delivery again, now, with its webhook id and payload (receivers that deduplicate by
 * webhook id treat it as the same message). A delivery whose retries were used up gets one attempt.
 */
export async function replayWebhookDelivery(prisma: PrismaClient, id: string, now: Date): Promise<WebhookDelivery> {
  const { count } = await prisma.webhookDelivery.updateMany({
    where: { id },
    data: { state: 'PENDING', nextAttemptAt: now, leaseUntil: null, leaseToken: null },
  });
  if (count === 0) throw codedError('NOT_FOUND', `No webhook delivery ${deliveryGlobalId(id)}`, { field: 'input.deliveryId' });
  return prisma.webhookDelivery.findUniqueOrThrow({ where: { id } });
}
