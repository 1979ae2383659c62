import { GraphQLError, visit } from 'graphql';
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
export function nulCharacterPlugin(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let literal = false;
      visit(args.document, {
        StringValue(node) {
          if (node.value.includes('\u0000')) literal = true;
        },
      });
      if (literal || containsNul(args.variableValues)) {
        setResultAndStopExecution({
          errors: [new GraphQLError('Strings must not contain the NUL character (U+0000)', { extensions: { code: 'BAD_USER_INPUT' } })],
        });
      }
    },
  };
}

