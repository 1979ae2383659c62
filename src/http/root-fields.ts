// The root fields an operation selects (fragments and inline fragments expanded), worked out once
// per parsed document: Yoga reuses the documents of queries it has seen, and several plugins ask.
import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

export interface RootSelection {
  /** query, mutation or subscription; undefined when the document has no such operation. */
  type: OperationDefinitionNode['operation'] | undefined;
  /** Field names in order, once per selection (an aliased field twice is there twice). */
  fields: string[];
}

const memo = new WeakMap<DocumentNode, Map<string, RootSelection>>();

function select(document: DocumentNode, operationName: string | null | undefined): RootSelection {
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  if (!operation) return { type: undefined, fields: [] };
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const seen = new Set<string>();
  const fields: string[] = [];
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
      else {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !seen.has(fragment.name.value)) {
          seen.add(fragment.name.value);
          walk(fragment.selectionSet);
        }
      }
    }
  };
  walk(operation.selectionSet);
  return { type: operation.operation, fields };
}

export function rootFields(document: DocumentNode, operationName: string | null | undefined): RootSelection {
  let byOperation = memo.get(document);
  if (!byOperation) memo.set(document, (byOperation = new Map()));
  const key = operationName ?? '';
  let selection = byOperation.get(key);
  if (!selection) byOperation.set(key, (selection = select(document, operationName)));
  return selection;
}
