// DateTime travels as an ISO 8601 string in UTC; JSON as any JSON value (traits, metadata, actor).
import { GraphQLError, valueFromASTUntyped } from 'graphql';
import { builder } from '../builder.js';
import { badUserInput } from '../errors.js';
import { parseIsoDateTime } from '../time.js';

// A date and time with an explicit offset: "2026-04-09T15:30:01Z", "2026-04-09T17:30:01.5+02:00".
function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? parseIsoDateTime(value) : undefined;
  if (date) return date;
  throw badUserInput(
    `Invalid DateTime ${JSON.stringify(value)}: expected a real ISO 8601 date-time with an offset, years 1 to 9999, e.g. "2026-04-09T15:30:01Z"`,
  );
}

builder.scalarType('DateTime', {
  description: 'A moment in time: an ISO 8601 string in UTC, e.g. "2026-04-09T15:30:01.000Z".',
  serialize: (value) => value.toISOString(),
  parseValue: parseDateTime,
  // A literal's error carries its node, so validation reports where it is and names its field
  // (http/error-codes.ts); graphql-js drops the position of a thrown GraphQLError that has none.
  parseLiteral: (node, variables) => {
    try {
      return parseDateTime(valueFromASTUntyped(node, variables));
    } catch (error) {
      throw new GraphQLError((error as GraphQLError).message, { nodes: node, extensions: (error as GraphQLError).extensions });
    }
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value (object, array, string, number, boolean or null).',
  serialize: (value) => value,
  parseValue: (value) => value,
});
