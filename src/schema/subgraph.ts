// The schema as a federation subgraph, as Pothos' `toSubGraphSchema` makes it (the `@link` to
// federation, `_entities` over the types with a resolvable key, `_service`, sorted), except that
// `_service`'s SDL is printed when a gateway first asks for it. Pothos prints it while it builds the
// schema, and Apollo's printer builds and validates a whole federation schema to do so: 100–150 ms
// of the main thread on every start, for a field only a gateway composing the graph reads.
import { printSubgraphSchema } from '@apollo/subgraph';
import { EntityType, entitiesField, serviceField } from '@apollo/subgraph/dist/types.js';
import { hasResolvableKey } from '@pothos/plugin-federation';
import { GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLUnionType, isObjectType, lexicographicSortSchema } from 'graphql';

export interface SubgraphOptions {
  linkUrl: string;
  /** The federation directives the schema uses, imported by its `@link`. */
  federationDirectives: string[];
}

export function toSubgraphSchema(builder: { toSchema(options: object): GraphQLSchema }, { linkUrl, federationDirectives }: SubgraphOptions): GraphQLSchema {
  const schema = builder.toSchema({
    sortSchema: true,
    extensions: { directives: [{ name: 'link', args: { url: linkUrl, import: federationDirectives } }] },
  });
  const queryType = schema.getQueryType();
  const types = schema.getTypeMap();
  const entityTypes = Object.values(types).filter((type) => isObjectType(type) && hasResolvableKey(type)) as GraphQLObjectType[];
  let sdl: string | undefined;
  const query: GraphQLObjectType = new GraphQLObjectType({
    name: queryType?.name ?? 'Query',
    description: queryType?.description,
    astNode: queryType?.astNode,
    extensions: queryType?.extensions,
    fields: () => ({
      ...(entityTypes.length > 0 && {
        _entities: {
          ...entitiesField,
          type: new GraphQLNonNull(
            new GraphQLList(new GraphQLUnionType({ ...EntityType.toConfig(), types: entityTypes.map((type) => (type === queryType ? query : type)) })),
          ),
        },
      }),
      _service: { ...serviceField, resolve: () => ({ sdl: (sdl ??= printSubgraphSchema(sorted)) }) },
      ...queryType?.toConfig().fields,
    }),
  });
  const sorted = lexicographicSortSchema(
    new GraphQLSchema({
      query,
      mutation: schema.getMutationType(),
      subscription: schema.getSubscriptionType(),
      extensions: schema.extensions,
      directives: schema.getDirectives(),
      extensionASTNodes: schema.extensionASTNodes,
      types: [...Object.values(types).filter((type) => type.name !== 'Query'), query],
    }),
  );
  return sorted;
}
