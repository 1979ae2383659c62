// With introspection off (production's default), the schema is not for anonymous eyes: federation's
// `_service { sdl }` would hand it out whole, so it needs an API token (a gateway sends one in its
// Authorization header) unless INTROSPECTION=true.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { rootFields } from './root-fields.js';

export function subgraphSchemaAccessPlugin(): Plugin<Context> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const { type, fields } = rootFields(args.document, args.operationName);
      if (type === 'query' && fields.includes('_service') && args.contextValue.caller?.kind !== 'apiClient') {
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
