import { join } from 'node:path';
import { printSubgraphSchema } from '@apollo/subgraph';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { projectRoot } from '../paths.js';
import { schema } from './index.js';

export const schemaFile = join(projectRoot, 'schema.graphql');
export const subgraphFile = join(projectRoot, 'subgraph.graphql');

/** The schema as clients see it. */
export function printedSchema(): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}

/** The federation SDL a gateway composes (with @link and @key), what `_service { sdl }` returns. */
export function printedSubgraph(): string {
  return printSubgraphSchema(schema) + '\n';
}
