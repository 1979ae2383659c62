// Planned writes: a mutation the planner answers with one statement of its own (see operation.ts
// for which), or undefined for the resolvers to answer (a confirmation's outcome settled for them).
import type { Context } from '../../context.js';
import { coerceVariables, type PlannableOperation } from '../selection.js';
import { createSession } from './create-session.js';
import { createSessionToken } from './create-session-token.js';
import { confirmChallenge } from './confirm-challenge.js';
import { payloadJson, plannedWriteField } from './operation.js';

export { checksSessionToken, plannableMutation } from './operation.js';
export { plannedWriteMark } from '../../db/database.js';

/** The response's `data` as JSON text, or undefined when the resolvers are to answer (nothing was written). */
export async function plannedWrite(operation: PlannableOperation, ctx: Context, rawVariables: Record<string, unknown>): Promise<string | undefined> {
  const variables = coerceVariables(operation, rawVariables);
  if (!variables) return undefined;
  const write = plannedWriteField(operation);
  let written;
  switch (write.name) {
    case 'createSession':
      // A login is an admin's; anyone else gets the resolvers' answer (FORBIDDEN …).
      if (ctx.caller?.kind !== 'apiClient' || ctx.caller.scope !== 'ADMIN') return undefined;
      written = await createSession(write, ctx, variables);
      break;
    case 'createSessionToken':
      written = await createSessionToken(write, ctx, variables);
      break;
    case 'confirmChallenge':
    case 'confirmRevocation':
      written = await confirmChallenge(write, ctx, variables);
      break;
    default:
      return undefined;
  }
  if (written.payload === undefined) return undefined;
  // Live subscribers hear of the committed event at once, as after any other write.
  if (written.wroteEvents) ctx.events.committed();
  return payloadJson(operation.fields, (name) => (name === '__typename' ? '"Mutation"' : written.payload!));
}
