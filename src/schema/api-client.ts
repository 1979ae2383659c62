// API tokens for server-to-server callers (Grid's `<api token id>:<api client secret>`).
import { requireAdmin } from '../auth/guards.js';
import { newSecret, sha256 } from '../auth/secrets.js';
import { builder } from '../builder.js';
import { ApiClientScope } from '../generated/prisma/enums.js';
import { optionalText } from './input.js';

export const ApiClientScopeEnum = builder.enumType(ApiClientScope, {
  name: 'ApiClientScope',
  description: 'What an API token may do: ADMIN everything, READ queries only.',
});

export const ApiClientType = builder.prismaObject('ApiClient', {
  description: 'A server-to-server caller. Its secret is never shown again after creation.',
  fields: (t) => ({
    tokenId: t.exposeString('id', { description: 'The id half of the Basic credentials.' }),
    name: t.exposeString('name', { nullable: true, description: 'What the token is for.' }),
    scope: t.expose('scope', { type: ApiClientScopeEnum, description: 'What it may do.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'When it last authenticated (to the minute).' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true, description: 'When it was revoked.' }),
  }),
});

builder.relayMutationField(
  'createApiToken',
  {
    description: 'What createApiToken needs.',
    inputFields: (t) => ({
      name: t.string({ required: false, description: 'What the token is for.' }),
      scope: t.field({ type: ApiClientScopeEnum, required: false, description: 'READ (default) or ADMIN.' }),
    }),
  },
  {
    description: 'Creates an API token (admin). The secret is in the payload and nowhere else: store it now.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const id = newSecret('sgk_').slice(0, 24);
      const secret = newSecret('sgs_');
      const apiClient = await ctx.prisma.apiClient.create({
        data: { id, secretHash: sha256(secret).toString('hex'), scope: input.scope ?? 'READ', name: optionalText(input.name, 'input.name') },
      });
      return { apiClient, secret };
    },
  },
  {
    description: 'The new token and its secret (shown once).',
    outputFields: (t) => ({
      apiClient: t.field({ type: ApiClientType, description: 'The token.', resolve: (p) => p.apiClient }),
      secret: t.string({ description: 'The secret half; only its hash is stored.', resolve: (p) => p.secret }),
      authorization: t.string({
        description: 'The ready-made header value: `Basic base64(<tokenId>:<secret>)`.',
        resolve: (p) => `Basic ${Buffer.from(`${p.apiClient.id}:${p.secret}`).toString('base64')}`,
      }),
    }),
  },
);
