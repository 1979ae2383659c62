import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './index.js';

export const schemaFile = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'schema.graphql');

export function printedSchema(): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
