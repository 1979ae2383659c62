// API tokens for server-to-server callers (Grid's `<api token id>:<api client secret>`).
import { adminClientId } from '../auth/caller.js';
import { requireAdmin } from '../auth/guards.js';
import { createApiToken } from '../auth/api-tokens.js';
import { builder } from '../builder.js';
import { ApiClientScope } from '../generated/prisma/enums.js';
import { codedError } from '../errors.js';
import { invalidField, optionalText } from './input.js';

export const ApiTokenScopeEnum = builder.enumType(ApiClientScope, {
  name: 'ApiTokenScope',
  description: 'What an API token may do: ADMIN everything, READ queries only.',
});

// The table keeps its storage name (api_clients); the schema says API token, as the README does.
export const ApiTokenType = builder.prismaObject('ApiClient', {
  name: 'ApiToken',
  description: 'An API token: a server-to-server caller\'s credentials. Its secret is never shown again after creation.',
  fields: (t) => ({
    tokenId: t.exposeString('id', { description: 'The id half of the Basic credentials.' }),
    name: t.exposeString('name', { nullable: true, description: 'What the token is for.' }),
    scope: t.expose('scope', { type: ApiTokenScopeEnum, description: 'What it may do.' }),
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
      scope: t.field({ type: ApiTokenScopeEnum, required: false, description: 'READ (default) or ADMIN.' }),
    }),
  },
  {
    description: 'Creates an API token (admin). The secret is in the payload and nowhere else: store it now.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      return createApiToken(ctx.prisma, { scope: input.scope ?? 'READ', name: optionalText(input.name, 'input.name') });
    },
  },
  {
    description: 'The new token and its secret (shown once).',
    outputFields: (t) => ({
      apiToken: t.field({ type: ApiTokenType, description: 'The token.', resolve: (p) => p.apiClient }),
      apiClient: t.field({ type: ApiTokenType, description: 'The token.', deprecationReason: 'Use apiToken.', resolve: (p) => p.apiClient }),
      secret: t.string({ description: 'The secret half; only its hash is stored.', resolve: (p) => p.secret }),
      secretKey: t.string({
        description: 'The same credentials as one string for `Authorization: Bearer <secretKey>` (Clerk\'s secretKey, Kratos\' admin access token); shown once.',
        resolve: (p) => p.secretKey,
      }),
      authorization: t.string({
        description: 'The ready-made header value: `Basic base64(<tokenId>:<secret>)`.',
        resolve: (p) => p.authorization,
      }),
    }),
  },
);

builder.queryField('apiTokens', (t) =>
  t.prismaField({
    type: [ApiTokenType],
    description: 'Every API token, newest first, revoked ones included (admin). Secrets are never shown: only their hashes are stored.',
    args: { includeRevoked: t.arg.boolean({ required: false, defaultValue: true, description: 'List revoked tokens too (default true).' }) },
    resolve: (query, _root, args, ctx) => {
      requireAdmin(ctx);
      return ctx.prisma.apiClient.findMany({
        ...query,
        where: args.includeRevoked === false ? { revokedAt: null } : {},
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      });
    },
  }),
);

builder.relayMutationField(
  'revokeApiToken',
  {
    description: 'What revokeApiToken needs.',
    inputFields: (t) => ({
      tokenId: t.string({ required: true, description: 'The token\'s id (the id half of its Basic credentials).' }),
    }),
  },
  {
    description:
      'Revokes an API token (admin): from now on its credentials are refused. The built-in admin token set by ADMIN_TOKEN cannot be revoked here; change the variable instead.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const tokenId = input.tokenId.trim();
      if (tokenId === adminClientId && ctx.auth.adminToken !== undefined) {
        throw invalidField('input.tokenId', 'the built-in admin token comes from ADMIN_TOKEN; unset or change that variable to retire it');
      }
      const { count } = await ctx.prisma.apiClient.updateMany({ where: { id: tokenId, revokedAt: null }, data: { revokedAt: ctx.now() } });
      const apiClient = await ctx.prisma.apiClient.findUnique({ where: { id: tokenId } });
      if (!apiClient) throw codedError('NOT_FOUND', `No API token with id ${JSON.stringify(tokenId)}`, { field: 'input.tokenId' });
      if (count === 0) throw codedError('API_TOKEN_ALREADY_REVOKED', `API token ${JSON.stringify(tokenId)} was revoked at ${apiClient.revokedAt!.toISOString()}`);
      return { apiClient };
    },
  },
  {
    description: 'The revoked token.',
    outputFields: (t) => ({
      apiToken: t.field({ type: ApiTokenType, description: 'The token, with revokedAt set.', resolve: (p) => p.apiClient }),
      apiClient: t.field({ type: ApiTokenType, description: 'The token, with revokedAt set.', deprecationReason: 'Use apiToken.', resolve: (p) => p.apiClient }),
    }),
  },
);
