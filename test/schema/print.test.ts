import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema, schemaFile } from '../../src/schema/print.js';

describe('schema.graphql', () => {
  it('is what the builder prints (run npm run schema:print after changing the schema)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(printedSchema());
  });

  it('describes every type and field', () => {
    const sdl = printedSchema();
    const undocumented = sdl
      .split('\n')
      .map((line, index, lines) => ({ line, previous: lines[index - 1]?.trim() ?? '' }))
      .filter(({ line }) => /^(type|enum|interface|input|scalar) /.test(line) || /^ {2}\w+(\(|:)/.test(line))
      .filter(({ line, previous }) => !previous.endsWith('"""') && !/^ {2}id: ID!$/.test(line))
      .map(({ line }) => line.trim());
    expect(undocumented).toEqual([]);
  });
});
