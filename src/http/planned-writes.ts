// Runs plannable mutations as one statement (planner/writes/) instead of through the resolvers: a
// login by an admin API token, a token mint, a signed revocation's confirmation. Whatever the
// planner does not answer — another caller, an odd input, a statement that fails — the resolvers
// do, with the errors they always give; a planned write that does not answer has written nothing,
// but for a confirmation, which leaves its outcome to the resolvers to answer (ctx.settledConfirmation).
//
// A mint by an opaque session token checks the token in the mint's own statement: validation marks
// the request (plannedWriteChecksSession), the context leaves the lookup pending, and this plugin
// settles it the usual way whenever the planner does not answer. A signed operation's step two
// (confirmChallenge / confirmRevocation) has its token checked by the statement that reads the
// challenge and its possible signers (readConfirmation); the planner answers a signed revocation of
// one session, and settles any other outcome for the resolvers to answer (planner/writes/confirm-challenge.ts).
import { GraphQLError, Kind, getArgumentValues, getOperationAST, getVariableValues, type DocumentNode, type FieldNode, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { settlePendingSession } from '../auth/caller.js';
import type { Context } from '../context.js';
import { checksSessionToken, plannedWrite, plannableMutation } from '../planner/writes/index.js';
import { readConfirmation } from '../revocation/service.js';
import { plannedResult, wantsResolverTrace } from './planned-reads.js';

/** Set on a request's initial context by validation: its operation is a planned write that checks a session token itself. */
export interface PlannedWriteHint {
  plannedWriteChecksSession?: boolean;
}

const confirmations = new Set(['confirmChallenge', 'confirmRevocation']);

/** The one field of a mutation that is a signed operation's step two, if it is one. */
function confirmationField(document: DocumentNode, operationName: string | null | undefined): FieldNode | undefined {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'mutation' || operation.directives?.length || operation.selectionSet.selections.length !== 1) return undefined;
  const field = operation.selectionSet.selections[0]!;
  return field.kind === Kind.FIELD && confirmations.has(field.name.value) && !field.directives?.length ? field : undefined;
}

/** The requestId a confirmation names, or undefined when its input does not coerce (the resolvers then say why). */
function requestIdOf(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, field: FieldNode, raw: Record<string, unknown>): string | undefined {
  try {
    const variables = getVariableValues(schema, getOperationAST(document, operationName)!.variableDefinitions ?? [], raw, { maxErrors: 1 });
    const definition = schema.getMutationType()?.getFields()[field.name.value];
    if (variables.errors || !definition) return undefined;
    const { input } = getArgumentValues(definition, field, variables.coerced) as { input?: { requestId?: unknown } };
    return typeof input?.requestId === 'string' ? input.requestId : undefined;
  } catch {
    return undefined;
  }
}

export function plannedWritesPlugin(): Plugin<Context> {
  return {
    onValidate({ params, context }) {
      const initial = context as PlannedWriteHint & { params?: { operationName?: string | null } };
      return ({ valid }) => {
        const operation = valid ? plannableMutation(params.schema, params.documentAST, initial.params?.operationName) : null;
        initial.plannedWriteChecksSession =
          (operation !== null && checksSessionToken(operation)) || (valid && confirmationField(params.documentAST, initial.params?.operationName) !== undefined);
      };
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as Context & { request?: Request };
      if (!ctx.caller && !ctx.pendingSession) return;
      const confirmation = ctx.pendingSession ? confirmationField(args.document, args.operationName) : undefined;
      if (confirmation) {
        const requestId = requestIdOf(args.schema, args.document, args.operationName, confirmation, (args.variableValues ?? {}) as Record<string, unknown>);
        // Settles the session (or throws its 401); the confirmation, planned or not, then goes on with what it read.
        await (requestId === undefined ? settlePendingSession(ctx) : readConfirmation(ctx, requestId));
      }
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
