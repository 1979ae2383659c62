// With introspection off (production's default), the schema is not for anonymous eyes: federation's
// `_service { sdl }` would hand it out whole, so it needs an API token (a gateway sends one in its
// Authorization header) unless INTROSPECTION=true.
import { GraphQLError, Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';

function selectsService(document: DocumentNode, operationName: string | null | undefined): boolean {
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const seen = new Set<string>();
  const visit = (selections: OperationDefinitionNode['selectionSet']['selections']): boolean =>
    selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === '_service';
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet.selections);
      const fragment = fragments.get(selection.name.value);
      if (!fragment || seen.has(fragment.name.value)) return false;
      seen.add(fragment.name.value);
      return visit(fragment.selectionSet.selections);
    });
  return operation?.operation === 'query' && visit(operation.selectionSet.selections);
}

export function subgraphSchemaAccessPlugin(): Plugin<Context> {
  const asked = new WeakMap<DocumentNode, Map<string, boolean>>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const byOperation = asked.get(args.document) ?? new Map<string, boolean>();
      asked.set(args.document, byOperation);
      const key = args.operationName ?? '';
      let service = byOperation.get(key);
      if (service === undefined) byOperation.set(key, (service = selectsService(args.document, args.operationName)));
      if (service && args.contextValue.caller?.kind !== 'apiClient') {
        setResultAndStopExecution({
          errors: [
            new GraphQLError('The subgraph schema (_service) needs an API token while introspection is off', {
              extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
            }),
          ],
        });
      }
    },
  };
}
