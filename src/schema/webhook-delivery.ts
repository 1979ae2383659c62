// One event (or test message) on its way to one webhook endpoint: attempts, last answer, state.
// Admin only, like the endpoints; read through WebhookEndpoint.deliveries.
import { requireAdmin } from '../auth/guards.js';
import { builder } from '../builder.js';
import { WebhookDeliveryState } from '../generated/prisma/enums.js';
import type { Prisma, WebhookDelivery } from '../generated/prisma/client.js';
import { deliveryGlobalId, replayWebhookDelivery, webhookObjectId } from '../webhooks/endpoints.js';
import { webhookMessageId } from '../webhooks/worker.js';
import { keysetPage, type PagedDelegate } from './connections.js';
import type { Context } from '../context.js';
import type { ConnectionArgs } from './pagination.js';

export const WebhookDeliveryStateEnum = builder.enumType(WebhookDeliveryState, {
  name: 'WebhookDeliveryState',
  description: 'Where a delivery stands: PENDING (waiting for its next attempt, or being attempted), SUCCEEDED (a 2xx came), FAILED (the retry schedule ran out).',
});

export const WebhookDeliveryType = builder.prismaObject('WebhookDelivery', {
  description: 'One event (or test message) for one webhook endpoint, with its attempts. Retries send the same body under the same webhook id.',
  fields: (t) => ({
    id: t.id({ description: '`WebhookDelivery:<uuid>`.', resolve: (delivery) => deliveryGlobalId(delivery.id) }),
    webhookId: t.string({ description: 'The `webhook-id` / `svix-id` header its requests carry (the same on every attempt).', resolve: (delivery) => webhookMessageId(delivery.id) }),
    type: t.exposeString('type', { description: 'The type receivers see: `session.revoked`, `webhook.test`, …' }),
    event: t.relation('event', { nullable: true, description: 'The event delivered; null for a test message.' }),
    state: t.expose('state', { type: WebhookDeliveryStateEnum, description: 'Where it stands.' }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made so far.' }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true, description: 'The HTTP status of the last attempt; null when it got none (see lastError).' }),
    lastDurationMs: t.exposeInt('lastDurationMs', { nullable: true, description: 'How long the last attempt took, in milliseconds.' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the last attempt got no status: a timeout, a network error, a refused address.' }),
    lastResponseBody: t.exposeString('lastResponseBody', { nullable: true, description: 'The start of the last response\'s body (2 KB at most).' }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true, description: 'When the last attempt started.' }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true, description: 'When it is attempted next; null once it succeeded or failed for good.' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true, description: 'When a receiver answered 2xx.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was queued.' }),
    payload: t.exposeString('payload', { description: 'The request body, exactly as sent.' }),
  }),
});

export const WebhookDeliveryConnection = builder.connectionObject(
  { type: WebhookDeliveryType, name: 'WebhookDeliveryConnection', description: 'A page of deliveries, newest first.' },
  { name: 'WebhookDeliveryEdge', description: 'A delivery in a page of deliveries.' },
);

/** A keyset page of one endpoint's deliveries, newest first. */
export function deliveryPage(ctx: Context, where: Prisma.WebhookDeliveryWhereInput, args: ConnectionArgs) {
  const delegate = ctx.prisma.webhookDelivery as unknown as PagedDelegate<WebhookDelivery, Prisma.WebhookDeliveryWhereInput>;
  return keysetPage(delegate, {}, where, args, ctx.maxPageSize);
}

builder.relayMutationField(
  'replayWebhookDelivery',
  {
    description: 'What replayWebhookDelivery needs.',
    inputFields: (t) => ({ deliveryId: t.id({ required: true, description: 'The delivery (`WebhookDelivery:<uuid>`).' }) }),
  },
  {
    description: 'Sends a delivery again now, with the same webhook id and body (admin). One whose retries ran out gets one more attempt.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      return { delivery: await replayWebhookDelivery(ctx.prisma, webhookObjectId(String(input.deliveryId), 'WebhookDelivery', 'input.deliveryId'), ctx.now()) };
    },
  },
  {
    description: 'The delivery, due now.',
    outputFields: (t) => ({ delivery: t.field({ type: WebhookDeliveryType, description: 'The delivery.', resolve: (p) => p.delivery }) }),
  },
);
