import { GraphQLError, visit, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([key, item]) => key.includes('\u0000') || containsNul(item));
  }
  return false;
}

/**
 * PostgreSQL cannot store U+0000 in text or JSON; a string carrying one would fail deep in a query.
 * Refuse it up front, naming the problem, whether it came in a variable or a literal.
 */
function hasNulLiteral(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    StringValue(node) {
      if (node.value.includes('\u0000')) found = true;
    },
  });
  return found;
}

export function nulCharacterPlugin(): Plugin {
  // Yoga reuses the parsed document of a query it has seen: look at each document once.
  const literals = new WeakMap<DocumentNode, boolean>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let literal = literals.get(args.document);
      if (literal === undefined) literals.set(args.document, (literal = hasNulLiteral(args.document)));
      if (literal || containsNul(args.variableValues)) {
        setResultAndStopExecution({
          errors: [new GraphQLError('Strings must not contain the NUL character (U+0000)', { extensions: { code: 'BAD_USER_INPUT' } })],
        });
      }
    },
  };
}

