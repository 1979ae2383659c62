// Runs plannable mutations as one statement (planner/writes/) instead of through the resolvers: a
// login by an admin API token, a token mint. Whatever the planner does not answer — another caller,
// an odd input, a statement that fails — the resolvers do, with the errors they always give; a
// planned write that does not answer has written nothing.
//
// A mint by an opaque session token checks the token in the mint's own statement: validation marks
// the request (plannedWriteChecksSession), the context leaves the lookup pending, and this plugin
// settles it the usual way whenever the planner does not answer.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { settlePendingSession } from '../auth/caller.js';
import type { Context } from '../context.js';
import { checksSessionToken, plannedWrite, plannableMutation } from '../planner/writes/index.js';
import { plannedResult, wantsResolverTrace } from './planned-reads.js';

/** Set on a request's initial context by validation: its operation is a planned write that checks a session token itself. */
export interface PlannedWriteHint {
  plannedWriteChecksSession?: boolean;
}

export function plannedWritesPlugin(): Plugin<Context> {
  return {
    onValidate({ params, context }) {
      const initial = context as PlannedWriteHint & { params?: { operationName?: string | null } };
      return ({ valid }) => {
        const operation = valid ? plannableMutation(params.schema, params.documentAST, initial.params?.operationName) : null;
        initial.plannedWriteChecksSession = operation !== null && checksSessionToken(operation);
      };
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as Context & { request?: Request };
      if (!ctx.caller && !ctx.pendingSession) return;
      const operation = wantsResolverTrace(ctx.request) ? null : plannableMutation(args.schema, args.document, args.operationName);
      let data: string | undefined;
      if (operation) {
        try {
          data = await plannedWrite(operation, ctx, (args.variableValues ?? {}) as Record<string, unknown>);
        } catch (error) {
          // The credentials do not authenticate: the request's 401, as the usual authentication gives it.
          if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') throw error;
          // One statement: when it fails, nothing was written, and the resolvers try from the start.
          ctx.logger.warn('a planned write failed; resolving it field by field instead', { error: (error as Error).message, requestId: ctx.requestId });
        }
      }
      // The resolvers need the caller.
      if (data === undefined) {
        await settlePendingSession(ctx);
        return;
      }
      setResultAndStopExecution(plannedResult(data));
    },
  };
}
