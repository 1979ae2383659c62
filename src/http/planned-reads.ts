// Runs plannable queries as one statement (planner/reads.ts) instead of through the
// resolvers. The statement returns the response's `data` as JSON text, which goes out as it came:
// parsed only if a plugin reads it, never stringified again.
//
// A session caller's opaque token is checked in that same statement: the context leaves the lookup
// pending when validation found a plannable query (plannedReadExpected), and this plugin either
// answers from the one statement or settles the token the usual way before the resolvers run.
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { settlePendingSession } from '../auth/caller.js';
import type { Context } from '../context.js';
import { withSpan } from '../tracing.js';
import { planQuery, plannableOperation } from '../planner/reads.js';

type SerializableResult = ExecutionResult & { stringify?: (result: ExecutionResult) => string };

/** Marks a result the planner answered (the metrics count them apart from the resolvers'). */
const answeredByPlanner = Symbol('answered by the planner');

export const isPlannedResult = (result: unknown): boolean => typeof result === 'object' && result !== null && answeredByPlanner in result;

export function plannedResult(text: string): SerializableResult & { [answeredByPlanner]: true } {
  let data: Record<string, unknown> | undefined;
  return {
    [answeredByPlanner]: true,
    get data() {
      return (data ??= JSON.parse(text) as Record<string, unknown>);
    },
    stringify(result) {
      // Another plugin added errors or extensions: serialize the whole result the usual way.
      if (result.errors?.length || result.extensions) return JSON.stringify({ ...result, data: result.data });
      return `{"data":${text}}`;
    },
  };
}

/** Set on a request's initial context by validation: its operation is one the planner may answer. */
export interface PlannedReadHint {
  plannedReadExpected?: boolean;
}

/** Apollo's inline trace needs the resolvers to time. */
export const wantsResolverTrace = (request: Request | undefined) => Boolean(request?.headers.get('apollo-federation-include-trace'));

type PlannedRow = { sessionId?: string; identityId?: string; authenticates?: boolean; data: unknown };

export function plannedReadsPlugin(): Plugin<Context> {
  return {
    onValidate({ params, context }) {
      const initial = context as PlannedReadHint & { params?: { operationName?: string | null } };
      return ({ valid }) => {
        initial.plannedReadExpected = valid && plannableOperation(params.schema, params.documentAST, initial.params?.operationName) !== null;
      };
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as Context & { request?: Request } & PlannedReadHint;
      if (!ctx.caller && !ctx.pendingSession) return;
      // A session token left pending for a planned write: that plugin checks and settles it.
      if (ctx.pendingSession && !ctx.plannedReadExpected) return;
      const operation = wantsResolverTrace(ctx.request) ? null : plannableOperation(args.schema, args.document, args.operationName);
      const planned = operation ? await planQuery(operation, ctx, (args.variableValues ?? {}) as Record<string, unknown>) : undefined;
      // Whatever this plugin does not answer, the resolvers do: they need the caller.
      if (!planned || 'data' in planned) await settlePendingSession(ctx);
      if (!planned) return;
      if ('data' in planned) {
        setResultAndStopExecution(plannedResult(planned.data));
        return;
      }
      let row: PlannedRow | undefined;
      try {
        row = (await withSpan('sessiongraph.planned_statement', { 'graphql.operation.name': args.operationName ?? '' }, () => ctx.readQuery(planned.sql, planned.params)))[0] as PlannedRow | undefined;
      } catch (error) {
        ctx.logger.warn('a planned read failed; resolving it field by field instead', { error: (error as Error).message, requestId: ctx.requestId });
        await settlePendingSession(ctx);
        return;
      }
      if (planned.checksCaller) {
        // No session by that hash, or one that does not authenticate: the usual path answers, with
        // its 401 (counted by the rate limiter), or with the data if the session changed meanwhile.
        if (!row?.authenticates) {
          await settlePendingSession(ctx);
          return;
        }
        ctx.caller = { kind: 'session', sessionId: row.sessionId!, identityId: row.identityId! };
        ctx.pendingSession = undefined;
      }
      setResultAndStopExecution(plannedResult(String(row!.data)));
    },
  };
}
