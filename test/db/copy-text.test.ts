// COPY text made by copy-text.ts reads back exactly what was written, whatever the characters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyJson, copyLine, copyTextArray, copyTimestamp } from '../../src/db/copy-text.js';
import { pgliteTarget, type TestDatabase } from '../support/databases.js';

const tricky = [
  '',
  ' ',
  'plain',
  'tab\there',
  'new\nline',
  'carriage\r\nreturn',
  'back\\slash',
  '\\N',
  '\\.',
  'ends with a backslash\\',
  '\\t is not a tab',
  'quotes " and \' and , and {braces} and NULL',
  'NULL',
  'ünïcödé, 漢字, emoji 🎉, RTL ‏עברית',
  '\u2028\u2029\u0085\u000b\u000c',
];

describe('COPY text on the embedded database', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await pgliteTarget.open({ migrate: false });
    await t.db.read('CREATE TABLE copied (n int, t text, j jsonb, a text[], at timestamptz(3), b boolean)', []);
  });
  afterAll(async () => {
    await t.dispose();
  });

  const copyIn = (text: string) =>
    t.db.transaction(async (_query, copyFrom) => {
      await copyFrom!("COPY copied (n, t, j, a, at, b) FROM '/dev/blob'", text);
    });

  it('round-trips text, NULL against the empty string, JSON, arrays and times exactly', async () => {
    const at = new Date('2026-12-03T18:45:12.345Z');
    const json = { tricky, nested: { 'key\twith\ntab': ['\\', '"', null, 1.5, true] }, empty: '' };
    const lines = tricky.map((value, n) => copyLine([String(n), value, copyJson({ value }), copyTextArray([value, value]), copyTimestamp(at), n % 2 ? 't' : 'f']));
    lines.push(copyLine(['100', null, copyJson(json), copyTextArray([]), copyTimestamp(undefined), undefined]));
    lines.push(copyLine(['101', undefined, copyJson(undefined), copyTextArray(tricky), null, 't']));
    await copyIn(lines.join(''));
    const rows = (await t.db.read('SELECT n, t, j, a, at, b FROM copied ORDER BY n', [])) as { n: number; t: string | null; j: unknown; a: string[] | null; at: Date | null; b: boolean | null }[];
    expect(rows).toHaveLength(tricky.length + 2);
    for (const [n, value] of tricky.entries()) {
      expect(rows[n]).toEqual({ n, t: value, j: { value }, a: [value, value], at, b: n % 2 === 1 });
    }
    expect(rows[tricky.length]).toEqual({ n: 100, t: null, j: json, a: [], at: null, b: null });
    expect(rows[tricky.length + 1]).toEqual({ n: 101, t: null, j: null, a: tricky, at: null, b: true });
    // The empty string is stored as one, not as NULL.
    expect(await t.db.read("SELECT count(*)::int AS n FROM copied WHERE t = ''", [])).toEqual([{ n: 1 }]);
  });

  it('writes none of a copy whose rows fail part way, and the transaction with it', async () => {
    const before = await t.db.read('SELECT count(*)::int AS n FROM copied', []);
    const error = await t.db
      .transaction(async (query, copyFrom) => {
        await query('INSERT INTO copied (n) VALUES (500)', []);
        await copyFrom!("COPY copied (n, t) FROM '/dev/blob'", copyLine(['501', 'fine']) + copyLine(['not a number', 'bad']));
      })
      .catch((e: unknown) => e);
    expect(String(error)).toMatch(/invalid input syntax for type integer/);
    expect(await t.db.read('SELECT count(*)::int AS n FROM copied', [])).toEqual(before);
  });
});
