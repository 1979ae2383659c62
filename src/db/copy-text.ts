// COPY's text format (what `COPY table (columns) FROM ...` reads): one line a row, fields split by
// tabs, `\N` for NULL, and a backslash before the characters that would end a field or a row.
// Every value PostgreSQL can store round-trips exactly: strings here are checked beforehand
// (no U+0000, no lone surrogate; text.ts), and JSON travels as its JSON text, escaped the same way.

/** A field's value: text as it is, `null` or `undefined` for SQL NULL. */
export type CopyValue = string | null | undefined;

const special = /[\\\t\n\r]/;
const specials = /[\\\t\n\r]/g;
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A text field; NULL as `\N` (an empty string stays an empty field). */
export function copyField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  return special.test(value) ? value.replace(specials, (c) => escapes[c]!) : value;
}

/** A row of fields as one line of COPY text, its newline included. */
export function copyLine(fields: readonly CopyValue[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) line += (i === 0 ? '' : '\t') + copyField(fields[i]);
  return line + '\n';
}

/** A json / jsonb value (undefined: NULL). */
export function copyJson(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

/** A timestamp (undefined: NULL), to the millisecond as a Date holds it. */
export function copyTimestamp(value: Date | undefined): string | undefined {
  return value?.toISOString();
}

/** A text[] literal: every element quoted, so commas, braces, quotes and spaces stay inside it. */
export function copyTextArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}
