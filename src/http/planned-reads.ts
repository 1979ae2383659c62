// Runs plannable queries as one statement (schema/planned-reads.ts) instead of through the
// resolvers. The statement returns the response's `data` as JSON text, which goes out as it came:
// parsed only if a plugin reads it, never stringified again.
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { planQuery, plannableOperation } from '../schema/planned-reads.js';

type SerializableResult = ExecutionResult & { stringify?: (result: ExecutionResult) => string };

function plannedResult(text: string): SerializableResult {
  let data: Record<string, unknown> | undefined;
  return {
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

export function plannedReadsPlugin(): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as Context & { request?: Request };
      if (!ctx.caller) return;
      // Apollo's inline trace needs the resolvers to time.
      if (ctx.request?.headers.get('apollo-federation-include-trace')) return;
      const operation = plannableOperation(args.schema, args.document, args.operationName);
      if (!operation) return;
      const planned = await planQuery(operation, ctx, (args.variableValues ?? {}) as Record<string, unknown>);
      if (!planned) return;
      if ('data' in planned) {
        setResultAndStopExecution(plannedResult(planned.data));
        return;
      }
      let rows: Record<string, unknown>[];
      try {
        rows = await ctx.readQuery(planned.sql, planned.params);
      } catch (error) {
        ctx.logger.warn('a planned read failed; resolving it field by field instead', { error: (error as Error).message, requestId: ctx.requestId });
        return;
      }
      setResultAndStopExecution(plannedResult(String(rows[0]!.data)));
    },
  };
}
