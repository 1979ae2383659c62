import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSubgraphSchema } from '@apollo/subgraph';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const schemaFile = join(root, 'schema.graphql');
export const subgraphFile = join(root, 'subgraph.graphql');

/** The schema as clients see it. */
export function printedSchema(): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}

/** The federation SDL a gateway composes (with @link and @key), what `_service { sdl }` returns. */
export function printedSubgraph(): string {
  return printSubgraphSchema(schema) + '\n';
}
