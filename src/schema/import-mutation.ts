import { requireAdmin } from '../auth/guards.js';
import { builder } from '../builder.js';
import { eventOrigin } from '../events/origin.js';
import { badUserInput, codedError } from '../errors.js';
import { ImportConflictError, ImportError, importDocument } from '../import/index.js';
import { VendorEnum } from './enums.js';
import { SessionNode } from './session.js';

builder.relayMutationField(
  'importSessions',
  {
    description: 'What importSessions needs.',
    inputFields: (t) => ({
      from: t.field({ type: VendorEnum, required: true, description: 'Whose format the document is in.' }),
      document: t.field({
        type: 'JSON',
        required: true,
        description:
          "The vendor's own JSON: Grid's GET /auth/sessions response, Kratos' identity sessions list, or Clerk session object(s).",
      }),
    }),
  },
  {
    description:
      'Imports sessions exported from Grid, Kratos or Clerk (admin): all or nothing, matched by the vendor\'s ids so a second import updates rather than duplicates.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      try {
        return await importDocument({ prisma: ctx.prisma, transaction: ctx.transaction, read: ctx.readQuery, oneConnection: ctx.oneConnection }, input.from, input.document, { origin: eventOrigin(ctx), listener: ctx.events, now: ctx.now() });
      } catch (error) {
        if (error instanceof ImportConflictError) throw codedError('IMPORT_CONFLICT', error.message);
        if (error instanceof ImportError) {
          throw badUserInput(`input.document: ${error.message}`, { field: `input.document.${error.field}` });
        }
        throw error;
      }
    },
  },
  {
    description: 'What importSessions wrote.',
    outputFields: (t) => ({
      sessions: t.prismaField({
        type: [SessionNode],
        description: 'The imported sessions, in document order.',
        resolve: async (query, summary, _args, ctx) => {
          const rows = await ctx.prisma.session.findMany({ ...query, where: { id: { in: summary.sessionIds } } });
          const byId = new Map(rows.map((row) => [row.id, row]));
          return summary.sessionIds.map((id) => byId.get(id)!);
        },
      }),
      sessionsCreated: t.int({ description: 'Sessions that were new.', resolve: (s) => s.sessionsCreated }),
      sessionsUpdated: t.int({ description: 'Sessions that existed and were updated.', resolve: (s) => s.sessionsUpdated }),
      identitiesCreated: t.int({ description: 'Identities that were new.', resolve: (s) => s.identitiesCreated }),
      identitiesUpdated: t.int({ description: 'Identities that existed and were updated.', resolve: (s) => s.identitiesUpdated }),
    }),
  },
);
