// What PostgreSQL can store, checked before writing: the first bad string or key, or too deep.
import { describe, expect, it } from 'vitest';
import { jsonProblem } from '../src/text.js';

describe('jsonProblem', () => {
  it('accepts JSON of any shape within the depth', () => {
    expect(jsonProblem({ a: [1, 'two', { b: null, c: true }], d: 'é😀' }, 4)).toBeUndefined();
    expect(jsonProblem('plain', 1)).toBeUndefined();
    expect(jsonProblem(42, 1)).toBeUndefined();
    expect(jsonProblem(null, 1)).toBeUndefined();
    expect(jsonProblem([], 1)).toBeUndefined();
  });

  it('counts objects and arrays alike as levels', () => {
    const nested = { a: [{ b: [] }] };
    expect(jsonProblem(nested, 4)).toBeUndefined();
    expect(jsonProblem(nested, 3)).toBe('nests deeper than 3 levels');
    // A string is no level of its own.
    expect(jsonProblem({ a: ['deep'] }, 2)).toBeUndefined();
  });

  it('finds a NUL or a lone surrogate in a value anywhere, and in a key', () => {
    expect(jsonProblem({ a: [{ b: 'x\u0000y' }] }, 8)).toBe('Strings must not contain the NUL character (U+0000)');
    expect(jsonProblem([1, [2, ['\ud800']]], 8)).toBe('Strings must be well-formed Unicode (a lone UTF-16 surrogate cannot be stored)');
    expect(jsonProblem({ ok: 1, nested: { 'k\u0000': 1 } }, 8)).toBe('Strings must not contain the NUL character (U+0000) (in a key)');
    expect(jsonProblem('\udc00', 1)).toBe('Strings must be well-formed Unicode (a lone UTF-16 surrogate cannot be stored)');
  });

  it('walks a wide document without recursion', () => {
    const wide = Array.from({ length: 50_000 }, (_, i) => ({ id: String(i), tags: ['a', 'b'] }));
    expect(jsonProblem(wide, 3)).toBeUndefined();
    wide[49_999]!.tags.push('\u0000');
    expect(jsonProblem(wide, 3)).toBe('Strings must not contain the NUL character (U+0000)');
  });
});
