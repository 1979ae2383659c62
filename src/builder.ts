// The one Pothos builder. Types register themselves on it from src/schema/*; src/schema/index.ts
// turns it into the executable schema.
import SchemaBuilder from '@pothos/core';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import type { Context } from './context.js';
import type PrismaTypes from './generated/prisma/pothos-types.js';
import { getDatamodel } from './generated/prisma/pothos-types.js';
import { decodeGlobalId, decodeGlobalIdLeniently, encodeGlobalId, malformedIdTypename } from './domain/global-id.js';
import { loadNodes } from './schema/node-loading.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  Connection: { totalCount?: number | (() => number | Promise<number>) };
  DefaultFieldNullability: false;
}>({
  // Fields are non-null unless they say otherwise: a null then means "no value", never "forgot".
  defaultFieldNullability: false,
  // Federation last: it wraps what the others build.
  plugins: [PrismaPlugin, RelayPlugin, DirectivePlugin, FederationPlugin],
  prisma: {
    // Per request: the server, the tests and the CLI each hand in their own database.
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    encodeGlobalID: encodeGlobalId,
    decodeGlobalID: (globalId) => decodeGlobalIdLeniently(globalId),
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: {
      description: 'Fetches any object by its global id (`Type:<uuid>`); null when there is none (or the caller may not see it).',
      resolve: async (_root, { id }, ctx, _info, resolveNodes) => {
        if (id.typename === malformedIdTypename) decodeGlobalId(id.id); // throws, naming the id
        return (await loadNodes(ctx, [id], async (ids) => [await resolveNodes(ids[0]!)]))[0];
      },
    },
    nodesQueryOptions: {
      description: 'Fetches objects by their global ids, in order; null for each id with no object the caller may see.',
      resolve: (_root, { ids }, ctx, _info, resolveNodes) => loadNodes(ctx, ids, resolveNodes),
    },
    nodeTypeOptions: { description: 'An object with a global id (`Type:<uuid>`), refetchable with `node(id:)`.' },
    // Shareable: other Relay subgraphs define the same PageInfo, and composition must accept both.
    pageInfoTypeOptions: { description: 'Where a page sits in a connection (Relay cursor connections spec).', shareable: true },
    cursorFieldOptions: { description: 'Opaque cursor of this edge, for `after` or `before`.' },
    nodeFieldOptions: { description: 'The object at this edge.' },
    edgesFieldOptions: { description: 'The objects of this page, newest first.' },
    pageInfoFieldOptions: { description: 'How to reach the neighbouring pages.' },
    hasNextPageFieldOptions: { description: 'Whether more objects follow this page (older ones).' },
    hasPreviousPageFieldOptions: { description: 'Whether objects precede this page (newer ones).' },
    startCursorFieldOptions: { description: 'Cursor of the first edge of the page; null when it is empty.' },
    endCursorFieldOptions: { description: 'Cursor of the last edge of the page; null when it is empty.' },
    firstArgOptions: { description: 'Return at most this many objects from the start (at most MAX_PAGE_SIZE, 100 by default; 20 when neither first nor last is given).' },
    afterArgOptions: { description: 'Start after this cursor.' },
    lastArgOptions: { description: 'Return at most this many objects from the end (at most MAX_PAGE_SIZE, 100 by default).' },
    beforeArgOptions: { description: 'End before this cursor.' },
    mutationInputArgOptions: { description: 'What to do, as one input object.' },
  },
});

builder.queryType({ description: 'Read sessions, identities and their devices.' });
builder.mutationType({ description: 'Create and change identities and sessions.' });

// Counted only when a client asks: the count is a statement of its own.
builder.globalConnectionField('totalCount', (t) =>
  t.int({
    description: 'How many objects the whole connection holds, across all pages.',
    resolve: async (connection) =>
      typeof connection.totalCount === 'function' ? connection.totalCount() : (connection.totalCount ?? 0),
  }),
);

/** The builder's type parameters, for helpers that take field builders. */
export type SchemaTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;
