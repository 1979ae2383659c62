// Unsigned operator actions (Kratos and Clerk admin APIs): admin API tokens only. The rules live in
// src/sessions/admin.ts, shared with the vendor routes.
import { builder } from '../builder.js';
import { adminRevokeSession, extendSession, revokeIdentitySessions } from '../sessions/admin.js';
import { SessionNode } from './session.js';

builder.relayMutationField(
  'adminRevokeSession',
  {
    description: 'What adminRevokeSession needs.',
    inputFields: (t) => ({
      sessionId: t.id({ required: true, description: 'The session to revoke (`Session:<uuid>`, or an imported session\'s vendor id).' }),
      reason: t.string({ required: false, description: 'Why, for the record.' }),
    }),
  },
  {
    description: 'Revokes a session at once, without a signature (admin).',
    resolve: async (_root, { input }, ctx) => ({ session: await adminRevokeSession(ctx, String(input.sessionId), input.reason) }),
  },
  {
    description: 'The revoked session.',
    outputFields: (t) => ({ session: t.field({ type: SessionNode, description: 'The session, now REVOKED.', resolve: (p) => p.session }) }),
  },
);

builder.relayMutationField(
  'revokeIdentitySessions',
  {
    description: 'What revokeIdentitySessions needs.',
    inputFields: (t) => ({
      identityId: t.id({ required: true, description: 'Whose sessions to revoke (`Identity:<uuid>`, or an imported identity\'s vendor id).' }),
      reason: t.string({ required: false, description: 'Why, for the record.' }),
    }),
  },
  {
    description: 'Revokes every active session of an identity, without a signature (admin; Kratos "delete identity sessions").',
    resolve: async (_root, { input }, ctx) => ({ revokedSessions: await revokeIdentitySessions(ctx, String(input.identityId), input.reason) }),
  },
  {
    description: 'The sessions revoked.',
    outputFields: (t) => ({
      revokedSessions: t.field({ type: [SessionNode], description: 'Every session this revoked, newest first.', resolve: (p) => p.revokedSessions }),
      revokedCount: t.int({ description: 'How many sessions were revoked.', resolve: (p) => p.revokedSessions.length }),
    }),
  },
);

builder.relayMutationField(
  'extendSession',
  {
    description: 'What extendSession needs.',
    inputFields: (t) => ({
      sessionId: t.id({ required: true, description: 'The session to extend (`Session:<uuid>`, or an imported session\'s vendor id).' }),
      until: t.field({ type: 'DateTime', required: true, description: 'Its new expiry, in the future.' }),
    }),
  },
  {
    description: 'Moves an active session\'s expiry (admin; Kratos "extend session").',
    resolve: async (_root, { input }, ctx) => ({ session: await extendSession(ctx, String(input.sessionId), input.until) }),
  },
  {
    description: 'The extended session.',
    outputFields: (t) => ({ session: t.field({ type: SessionNode, description: 'The session with its new expiry.', resolve: (p) => p.session }) }),
  },
);
