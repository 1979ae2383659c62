// Runs plannable mutations as one statement (planner/writes/) instead of through the resolvers: a
// login by an admin API token. Whatever the planner does not answer — another caller, an odd input,
// a statement that fails — the resolvers do, with the errors they always give; a planned write
// that does not answer has written nothing.
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { plannedWrite, plannableMutation } from '../planner/writes/index.js';
import { plannedResult, wantsResolverTrace } from './planned-reads.js';

export function plannedWritesPlugin(): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as Context & { request?: Request };
      // Every planned write is an admin's; anyone else gets the resolvers' answer (FORBIDDEN …).
      if (ctx.caller?.kind !== 'apiClient' || ctx.caller.scope !== 'ADMIN') return;
      const operation = wantsResolverTrace(ctx.request) ? null : plannableMutation(args.schema, args.document, args.operationName);
      if (!operation) return;
      let data: string | undefined;
      try {
        data = await plannedWrite(operation, ctx, (args.variableValues ?? {}) as Record<string, unknown>);
      } catch (error) {
        // One statement: when it fails, nothing was written, and the resolvers try from the start.
        ctx.logger.warn('a planned write failed; resolving it field by field instead', { error: (error as Error).message, requestId: ctx.requestId });
        return;
      }
      if (data !== undefined) setResultAndStopExecution(plannedResult(data));
    },
  };
}
