import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema, printedSubgraph, schemaFile, subgraphFile } from '../../src/schema/print.js';

describe('schema.graphql', () => {
  it('is what the builder prints (run npm run schema:print after changing the schema)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(printedSchema());
  });

  it('subgraph.graphql is the federation SDL the builder prints (npm run schema:print)', () => {
    expect(readFileSync(subgraphFile, 'utf8')).toBe(printedSubgraph());
    expect(printedSubgraph()).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.6"/);
  });

  it('describes every type and field', () => {
    const sdl = printedSchema();
    const undocumented = sdl
      .split('\n')
      .map((line, index, lines) => ({ line, previous: lines[index - 1]?.trim() ?? '' }))
      .filter(({ line }) => /^(type|enum|interface|input|scalar) /.test(line) || /^ {2}\w+(\(|:)/.test(line))
      .filter(({ line, previous }) => !previous.endsWith('"""') && !/^ {2}id: ID!$/.test(line))
      // _entities, _service, _Any, _Service are federation's own, added by @apollo/subgraph.
      .filter(({ line }) => !/^(\s*_|(type|scalar) _)/.test(line))
      .map(({ line }) => line.trim());
    expect(undocumented).toEqual([]);
  });
});
