// The signed mutations may run at most once per HTTP request, however they are dressed up: aliased
// twice in one operation, spread through fragments, or sent as several operations in one batch.
// One request, one signature check: guessing or racing signatures costs a request each.
import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export const signedMutations = new Set(['revokeSession', 'confirmRevocation', 'confirmChallenge', 'revokeOtherSessions', 'revokeCredential', 'addCredential']);

/** How many times the executed operation selects a signed mutation (fragments included). */
function signedSelections(document: DocumentNode, operationName: string | null | undefined): number {
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operations.find((o) => (operationName ? o.name?.value === operationName : true));
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'mutation') return 0;
  let count = 0;
  const seen = new Set<string>();
  const walk = (node: Parameters<typeof visit>[0]) =>
    visit(node, {
      Field(field) {
        if (signedMutations.has(field.name.value)) count++;
        return false; // only root fields are mutations
      },
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !seen.has(spread.name.value)) {
          seen.add(spread.name.value);
          walk(fragment.selectionSet);
        }
      },
    });
  walk(operation.selectionSet);
  return count;
}

export function signedOperationLimitPlugin(): Plugin<{ request: Request }> {
  const perRequest = new WeakMap<Request, number>();
  // Yoga reuses the parsed document of a query it has seen: count each document's selections once.
  const counted = new WeakMap<DocumentNode, Map<string, number>>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const byOperation = counted.get(args.document) ?? new Map<string, number>();
      counted.set(args.document, byOperation);
      const key = args.operationName ?? '';
      let found = byOperation.get(key);
      if (found === undefined) byOperation.set(key, (found = signedSelections(args.document, args.operationName)));
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
