// Errors a client is meant to read: each carries a code in extensions.code. Anything else a resolver
// throws is masked by Yoga and logged with the request id.
import { GraphQLError } from 'graphql';

export function badUserInput(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...extensions } });
}

/** An error with its own code, for failures a client is expected to tell apart. */
export function codedError(code: string, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}
