import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions?.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/**
 * Gives every error a code in extensions.code, as clients switch on it: a query that does not fit
 * the schema is GRAPHQL_VALIDATION_FAILED; a variable of the wrong type or an unknown enum value
 * is BAD_USER_INPUT, like the checks our resolvers make.
 */
export function errorCodesPlugin(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || !result.errors?.length) return;
          setResult({
            ...result,
            errors: result.errors.map((error) =>
              !error.path && error.message.startsWith('Variable "$') ? withCode(error, 'BAD_USER_INPUT') : error,
            ),
          });
        },
      };
    },
  };
}

