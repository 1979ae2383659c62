// Webhook endpoints (admin only): backends that receive session events over HTTP, signed per
// Standard Webhooks or in Clerk's Svix format. The rules live in src/webhooks/; this is their face.
import { requireAdmin } from '../auth/guards.js';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { WebhookFormat } from '../generated/prisma/enums.js';
import type { Prisma, WebhookEndpoint } from '../generated/prisma/client.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  endpointGlobalId,
  rotateWebhookSecret,
  sendTestWebhook,
  updateWebhookEndpoint,
  webhookObjectId,
} from '../webhooks/endpoints.js';
import { keysetPage, type PagedDelegate } from './connections.js';
import { SessionEventTypeEnum } from './enums.js';
import { WebhookDeliveryConnection, WebhookDeliveryStateEnum, WebhookDeliveryType, deliveryPage } from './webhook-delivery.js';

export const WebhookFormatEnum = builder.enumType(WebhookFormat, {
  name: 'WebhookFormat',
  description:
    'STANDARD: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`; body `{type, timestamp, data}` with the event). ' +
    'CLERK: Clerk\'s webhooks as Svix sends them (`svix-*` headers; body `{type, object: "event", timestamp, data}` with Clerk\'s Session JSON), for @clerk/backend\'s verifyWebhook.',
});

export const WebhookEndpointType = builder.prismaObject('WebhookEndpoint', {
  description: 'A backend that receives session events over HTTP. Its secret is shown once, when it is created or rotated.',
  fields: (t) => ({
    id: t.id({ description: '`WebhookEndpoint:<uuid>`.', resolve: (endpoint) => endpointGlobalId(endpoint.id) }),
    url: t.exposeString('url', { description: 'Where the events are POSTed.' }),
    eventTypes: t.expose('eventTypes', { type: [SessionEventTypeEnum], description: 'The event types it receives.' }),
    format: t.expose('format', { type: WebhookFormatEnum, description: 'How its requests are shaped and signed.' }),
    description: t.exposeString('description', { nullable: true, description: 'What it is for.' }),
    enabled: t.boolean({ description: 'Whether events are sent to it.', resolve: (endpoint) => endpoint.disabledAt === null }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true, description: 'When it was disabled: by an admin, or after failing for WEBHOOK_DISABLE_AFTER.' }),
    disabledReason: t.exposeString('disabledReason', { nullable: true, description: 'Why it was disabled.' }),
    failingSince: t.expose('failingSince', { type: 'DateTime', nullable: true, description: 'Its first failed attempt since its last success; null while it succeeds.' }),
    previousSecretExpiresAt: t.expose('previousSecretUntil', {
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation: until when the previous secret still signs beside the new one.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created; events from then on are delivered to it.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
    deliveries: t.field({
      type: WebhookDeliveryConnection,
      description: 'Its deliveries, newest first.',
      args: {
        ...t.arg.connectionArgs(),
        state: t.arg({ type: [WebhookDeliveryStateEnum], required: false, description: 'Only deliveries in one of these states.' }),
      },
      resolve: (endpoint, args, ctx) => deliveryPage(ctx, { endpointId: endpoint.id, ...(args.state ? { state: { in: [...new Set(args.state)] } } : {}) }, args),
    }),
  }),
});

export const WebhookEndpointConnection = builder.connectionObject(
  { type: WebhookEndpointType, name: 'WebhookEndpointConnection', description: 'A page of webhook endpoints, newest first.' },
  { name: 'WebhookEndpointEdge', description: 'An endpoint in a page of endpoints.' },
);

builder.queryField('webhookEndpoints', (t) =>
  t.field({
    type: WebhookEndpointConnection,
    description: 'Every webhook endpoint, newest first (admin).',
    args: t.arg.connectionArgs(),
    resolve: (_root, args, ctx) => {
      requireAdmin(ctx);
      const delegate = ctx.prisma.webhookEndpoint as unknown as PagedDelegate<WebhookEndpoint, Prisma.WebhookEndpointWhereInput>;
      return keysetPage(delegate, {}, {}, args, ctx.maxPageSize);
    },
  }),
);

builder.queryField('webhookEndpoint', (t) =>
  t.prismaField({
    type: WebhookEndpointType,
    nullable: true,
    description: 'One webhook endpoint by id (admin); null when there is none.',
    args: { id: t.arg.id({ required: true, description: '`WebhookEndpoint:<uuid>`.' }) },
    resolve: (query, _root, args, ctx) => {
      requireAdmin(ctx);
      return ctx.prisma.webhookEndpoint.findUnique({ ...query, where: { id: webhookObjectId(String(args.id), 'WebhookEndpoint', 'id') } });
    },
  }),
);

const endpointId = (ctx: Context, value: string | number) => {
  requireAdmin(ctx);
  return webhookObjectId(String(value), 'WebhookEndpoint', 'input.endpointId');
};

const endpointWithSecret = (t: PothosSchemaTypes.ObjectFieldBuilder<import('../builder.js').SchemaTypes, { endpoint: WebhookEndpoint; secret: string }>) => ({
  endpoint: t.field({ type: WebhookEndpointType, description: 'The endpoint.', resolve: (p) => p.endpoint }),
  secret: t.string({
    description: 'Its signing secret (`whsec_…`), shown this once: verify requests with it (standardwebhooks, svix, @clerk/backend).',
    resolve: (p) => p.secret,
  }),
});

builder.relayMutationField(
  'createWebhookEndpoint',
  {
    description: 'What createWebhookEndpoint needs.',
    inputFields: (t) => ({
      url: t.string({ required: true, description: 'An http(s) URL; one that resolves to a loopback, private, link-local or metadata address is refused (unless WEBHOOK_ALLOW_PRIVATE=true).' }),
      eventTypes: t.field({ type: [SessionEventTypeEnum], required: true, description: 'The event types to receive (CLERK: SESSION_CREATED, SESSION_REVOKED, SESSION_IMPORTED).' }),
      format: t.field({ type: WebhookFormatEnum, required: false, description: 'STANDARD (default) or CLERK.' }),
      description: t.string({ required: false, description: 'What it is for.' }),
    }),
  },
  {
    description: 'Creates a webhook endpoint (admin): events committed from now on are POSTed to it. The secret is in the payload only.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      return createWebhookEndpoint(ctx.prisma, ctx.webhooks, input, ctx.now());
    },
  },
  { description: 'The endpoint and its secret (shown once).', outputFields: endpointWithSecret },
);

builder.relayMutationField(
  'updateWebhookEndpoint',
  {
    description: 'What updateWebhookEndpoint needs; fields left out stay as they are.',
    inputFields: (t) => ({
      endpointId: t.id({ required: true, description: 'The endpoint (`WebhookEndpoint:<uuid>`).' }),
      url: t.string({ required: false, description: 'A new URL (checked like a new endpoint\'s).' }),
      eventTypes: t.field({ type: [SessionEventTypeEnum], required: false, description: 'The event types to receive.' }),
      description: t.string({ required: false, description: 'What it is for (null clears it).' }),
      enabled: t.boolean({ required: false, description: 'false disables it (nothing is sent; new events are not queued for it); true enables it again (what is pending is sent).' }),
    }),
  },
  {
    description: 'Changes a webhook endpoint (admin).',
    resolve: async (_root, { input }, ctx) => ({
      endpoint: await updateWebhookEndpoint(ctx.prisma, ctx.webhooks, endpointId(ctx, input.endpointId), input, ctx.now()),
    }),
  },
  { description: 'The endpoint.', outputFields: (t) => ({ endpoint: t.field({ type: WebhookEndpointType, description: 'The endpoint.', resolve: (p) => p.endpoint }) }) },
);

builder.relayMutationField(
  'deleteWebhookEndpoint',
  {
    description: 'What deleteWebhookEndpoint needs.',
    inputFields: (t) => ({ endpointId: t.id({ required: true, description: 'The endpoint (`WebhookEndpoint:<uuid>`).' }) }),
  },
  {
    description: 'Deletes a webhook endpoint and its deliveries (admin); nothing more is sent to it.',
    resolve: async (_root, { input }, ctx) => {
      const id = endpointId(ctx, input.endpointId);
      await deleteWebhookEndpoint(ctx.prisma, id);
      return { deletedEndpointId: endpointGlobalId(id) };
    },
  },
  { description: 'What was deleted.', outputFields: (t) => ({ deletedEndpointId: t.id({ description: 'The deleted endpoint\'s id.', resolve: (p) => p.deletedEndpointId }) }) },
);

builder.relayMutationField(
  'rotateWebhookSecret',
  {
    description: 'What rotateWebhookSecret needs.',
    inputFields: (t) => ({ endpointId: t.id({ required: true, description: 'The endpoint (`WebhookEndpoint:<uuid>`).' }) }),
  },
  {
    description: 'Gives the endpoint a new secret (admin). For 24 hours requests carry two signatures, one per secret, so receivers can switch without losing an event.',
    resolve: async (_root, { input }, ctx) => rotateWebhookSecret(ctx.prisma, ctx.webhooks, endpointId(ctx, input.endpointId), ctx.now()),
  },
  { description: 'The endpoint and its new secret (shown once).', outputFields: endpointWithSecret },
);

builder.relayMutationField(
  'sendTestWebhook',
  {
    description: 'What sendTestWebhook needs.',
    inputFields: (t) => ({ endpointId: t.id({ required: true, description: 'The endpoint (`WebhookEndpoint:<uuid>`).' }) }),
  },
  {
    description: 'Queues a `webhook.test` message for the endpoint (admin), signed and retried like any delivery.',
    resolve: async (_root, { input }, ctx) => ({ delivery: await sendTestWebhook(ctx.prisma, endpointId(ctx, input.endpointId), ctx.now()) }),
  },
  { description: 'The test delivery.', outputFields: (t) => ({ delivery: t.field({ type: WebhookDeliveryType, description: 'The delivery.', resolve: (p) => p.delivery }) }) },
);
