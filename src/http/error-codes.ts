import { GraphQLError, Kind, visit, type ASTNode, type DocumentNode, type ValueNode } from 'graphql';
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

/** Where `target` sits inside `value`, written from `prefix` (`input.devices[0].expiresAt`). */
function pathWithin(value: ValueNode, target: ASTNode, prefix: string): string | undefined {
  if (value === target) return prefix;
  if (value.kind === Kind.OBJECT) {
    for (const field of value.fields) {
      const found = pathWithin(field.value, target, `${prefix}.${field.name.value}`);
      if (found) return found;
    }
  } else if (value.kind === Kind.LIST) {
    for (const [index, entry] of value.values.entries()) {
      const found = pathWithin(entry, target, `${prefix}[${index}]`);
      if (found) return found;
    }
  }
  return undefined;
}

/** The argument path of a literal value in the document, if it is one. */
function literalField(document: DocumentNode, target: ASTNode): string | undefined {
  let field: string | undefined;
  visit(document, {
    Argument(argument) {
      field ??= pathWithin(argument.value, target, argument.name.value);
      return false;
    },
  });
  return field;
}

/**
 * A scalar's refusal of a literal (an impossible DateTime) names the field it was written for,
 * as the resolvers' own checks do: "input.expiresAt: …" and extensions.field.
 */
function namingField(error: GraphQLError, document: DocumentNode): GraphQLError {
  const node = error.nodes?.[0];
  if (error.extensions?.code !== 'BAD_USER_INPUT' || error.extensions.field || !node) return error;
  const field = literalField(document, node);
  if (!field) return error;
  return new GraphQLError(`${field}: ${error.message}`, { nodes: error.nodes, extensions: { ...error.extensions, field } });
}

/**
 * Gives every error a code in extensions.code, as clients switch on it: a query that does not fit
 * the schema is GRAPHQL_VALIDATION_FAILED; a variable of the wrong type or an unknown enum value
 * is BAD_USER_INPUT, like the checks our resolvers make.
 */
export function errorCodesPlugin({ hideSuggestions }: { hideSuggestions: boolean }): Plugin {
  return {
    onValidate({ params }) {
      return ({ result, setResult }) => {
        if (result.length > 0) {
          setResult(result.map((error) => withCode(namingField(error, params.documentAST), 'GRAPHQL_VALIDATION_FAILED', hideSuggestions)));
        }
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

