// docs/field-mapping.md promises a GraphQL field for each vendor field; hold it to that.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getNamedType, isObjectType, type GraphQLNamedType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { projectRoot } from '../support/process.js';

const mapping = readFileSync(join(projectRoot, 'docs/field-mapping.md'), 'utf8');

/** `Session.identity.externalId` → follows each field's type; false when a step does not exist. */
function resolves(path: string): boolean {
  const [typeName, ...fields] = path.split('.');
  let type: GraphQLNamedType | undefined = schema.getType(typeName!) ?? undefined;
  for (const field of fields) {
    if (!type || !isObjectType(type)) return false;
    const found = type.getFields()[field];
    if (!found) return false;
    type = getNamedType(found.type);
  }
  return type !== undefined;
}

describe('docs/field-mapping.md', () => {
  const references = mapping
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
    .flatMap((line) => (line.split(' | ')[2] ?? '').match(/`[A-Z]\w*(\.\w+)+`/g) ?? [])
    .map((ref) => ref.slice(1, -1));

  it('names GraphQL fields that exist', () => {
    expect(references.length).toBeGreaterThan(60);
    expect(references.filter((ref) => !resolves(ref))).toEqual([]);
  });

  it('covers every seed document', () => {
    for (const heading of ['Lightspark Grid — `GET /auth/sessions`', 'DELETE /auth/sessions', 'Ory Kratos', 'Clerk']) {
      expect(mapping).toContain(heading);
    }
  });
});
