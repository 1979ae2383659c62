// Who am I (Kratos' whoami): the calling session and its identity, or the calling API token.
import { unauthenticated } from '../auth/caller.js';
import { builder } from '../builder.js';
import { ApiTokenType } from './api-client.js';
import { IdentityNode } from './identity.js';
import { SessionNode } from './session.js';

export const ViewerType = builder.objectRef<{ sessionId?: string; identityId?: string; apiClientId?: string }>('Viewer').implement({
  description: 'The caller of this request.',
  fields: (t) => ({
    // Both were loaded with the session token; the loaders hand them over without another query.
    session: t.field({
      type: SessionNode,
      nullable: true,
      description: 'The calling session; null for an API token.',
      resolve: (viewer, _args, ctx) => (viewer.sessionId ? ctx.loaders.session.load(viewer.sessionId) : null),
    }),
    identity: t.field({
      type: IdentityNode,
      nullable: true,
      description: 'The calling session\'s identity; null for an API token.',
      resolve: (viewer, _args, ctx) => (viewer.identityId ? ctx.loaders.identity.load(viewer.identityId) : null),
    }),
  }),
});

// The calling API token: apiToken, and apiClient (deprecated), kept for the clients that read it.
for (const [name, deprecationReason] of [['apiToken', undefined], ['apiClient', 'Use apiToken.']] as const) {
  builder.objectField(ViewerType, name, (t) =>
    t.prismaField({
      type: ApiTokenType,
      nullable: true,
      description: 'The calling API token; null for a session (and for ADMIN_TOKEN, which is not stored).',
      deprecationReason,
      resolve: (query, viewer, _args, ctx) => (viewer.apiClientId ? ctx.prisma.apiClient.findUnique({ ...query, where: { id: viewer.apiClientId } }) : null),
    }),
  );
}

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerType,
    description: 'The caller: its session and identity (Bearer), or its API token (Basic). Without credentials: HTTP 401, as Kratos\' whoami answers.',
    resolve: (_root, _args, ctx) => {
      const caller = ctx.caller;
      // Kratos' whoami: no credentials is HTTP 401, not an empty answer.
      if (!caller) throw unauthenticated('No credentials: viewer (whoami) needs a session token (Bearer, or the session cookie) or an API token');
      return caller.kind === 'session' ? { sessionId: caller.sessionId, identityId: caller.identityId } : { apiClientId: caller.clientId };
    },
  }),
);
