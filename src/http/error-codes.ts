import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// "Did you mean …?" lists the schema's names to whoever guesses; production keeps them to itself.
const suggestion = / ?Did you mean [^?]*\?/;

function withCode(error: GraphQLError, code: string, hideSuggestions: boolean): GraphQLError {
  const message = hideSuggestions ? error.message.replace(suggestion, '') : error.message;
  if (error.extensions?.code && message === error.message) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: error.extensions?.code ?? code },
  });
}

/**
 * Gives every error a code in extensions.code, as clients switch on it: a query that does not fit
 * the schema is GRAPHQL_VALIDATION_FAILED; a variable of the wrong type or an unknown enum value
 * is BAD_USER_INPUT, like the checks our resolvers make.
 */
export function errorCodesPlugin({ hideSuggestions }: { hideSuggestions: boolean }): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED', hideSuggestions)));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || !result.errors?.length) return;
          setResult({
            ...result,
            errors: result.errors.map((error) =>
              !error.path && error.message.startsWith('Variable "$') ? withCode(error, 'BAD_USER_INPUT', hideSuggestions) : error,
            ),
          });
        },
      };
    },
  };
}

