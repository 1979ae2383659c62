// The signed mutations may run at most once per HTTP request, however they are dressed up: aliased
// twice in one operation, spread through fragments, or sent as several operations in one batch.
// One request, one signature check: guessing or racing signatures costs a request each.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { rootFields } from './root-fields.js';

export const signedMutations = new Set(['revokeSession', 'confirmRevocation', 'confirmChallenge', 'revokeOtherSessions', 'revokeCredential', 'addCredential']);

export function signedOperationLimitPlugin(): Plugin<{ request: Request }> {
  const perRequest = new WeakMap<Request, number>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const { type, fields } = rootFields(args.document, args.operationName);
      const found = type === 'mutation' ? fields.filter((field) => signedMutations.has(field)).length : 0;
      if (found === 0) return;
      const request = args.contextValue.request;
      const total = (perRequest.get(request) ?? 0) + found;
      perRequest.set(request, total);
      if (total > 1) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `A request may run one signed operation (${[...signedMutations].join(', ')}), not ${total}: send them one at a time`,
              { extensions: { code: 'SIGNED_OPERATION_LIMIT' } },
            ),
          ],
        });
      }
    },
  };
}
