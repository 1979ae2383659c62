// How a planned statement writes the response's JSON text, and the parameters it carries.
import { getArgumentValues } from 'graphql';
import type { Context } from '../context.js';
import { Unplannable, type Collected } from './selection.js';

// ---------------------------------------------------------------- SQL, built per request

// The statement writes the response's JSON text itself, so Node only passes it on. Not with
// json_build_object, though: it costs PostgreSQL two to three times what the same values cost as
// text (it looks up how to write each value, every time), which put our reads above the raw-SQL
// baseline's database time. Each value is written as JSON text on its own — strings escaped by
// to_json, ids, enum names, times and cursors (nothing to escape) just quoted, lists, nested
// objects, stored JSON, booleans and numbers as they are — and concatenated between the literal
// keys and punctuation, in the selection's order.

/** Values travel as parameters; only checked enum names and integers are written into the text. */
export class Statement {
  readonly params: unknown[] = [];
  private aliases = 0;
  param(value: unknown, cast: string): string {
    this.params.push(value);
    return `$${this.params.length}::${cast}`;
  }
  alias(prefix: string): string {
    return `${prefix}${++this.aliases}`;
  }
}

export interface Build {
  sql: Statement;
  ctx: Context;
  variables: Record<string, unknown>;
  /** API callers see admin-only fields; a session sees its own identity only. */
  admin: boolean;
  /** A session caller's ids as SQL (parameters, or the columns of a pending token's lookup); null for an API caller. */
  own: { identityId: string; sessionId: string } | null;
  readonly now: string;
  /** Where a session's devices are read from: the table, or a planned write's rows of its own (which the statement's snapshot cannot see in the table). */
  devicesFrom?: string;
}

export const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
export const enumLiteral = (value: string) => {
  if (!/^[A-Z][A-Z0-9_]*$/.test(value)) throw new Unplannable();
  return `'${value}'`;
};
/** A timestamp as the DateTime scalar serializes it (toISOString). */
export const isoTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
export const globalId = (type: string, column: string) => `(${quote(`${type}:`)} || ${column})`;

/**
 * A field's value: SQL whose text is the value's JSON (never NULL: 'null'), JSON known in advance,
 * or SQL text never NULL with nothing to escape, which the object's literal text quotes.
 */
export type Value = Json | Literal | { present: string };
export type Json = { json: string };
export type Literal = { literal: string };
export const json = (sql: string): Json => ({ json: sql });
/** JSON that does not depend on the row: a type name, or null for a field the caller may not see. */
export const literal = (jsonText: string): Literal => ({ literal: jsonText });
export const typename = (name: string) => literal(JSON.stringify(name));
export const hidden = literal('null');
/** Text, escaped for JSON (to_json per value measured cheaper than json_object over an array of them). */
export const text = (sql: string): Value => json(`COALESCE(to_json((${sql})::text)::text, 'null')`);
/** Text with nothing JSON would escape (ids, enum names, formatted times, cursors, hex): quoted as it is. */
export const plain = (sql: string): Value => json(`COALESCE('"' || ${sql} || '"', 'null')`);
/**
 * Like plain, for a value that is never NULL (a NOT NULL column): no COALESCE, and its quotes join
 * the literal text around it — a row's JSON is a chain of concatenations, each one costs the backend.
 */
export const present = (sql: string): Value => ({ present: sql });
/** A nullable value whose SQL text is its JSON (numbers, booleans, json/jsonb columns). */
export const jsonOrNull = (sql: string): Value => json(`COALESCE((${sql})::text, 'null')`);
/** A list of objects: `select` returns each object's JSON, in order (array() keeps the subquery's order). */
export const list = (select: string): Value => json(`('[' || array_to_string(array(${select}), ',') || ']')`);

export function args(field: Collected, build: Build): Record<string, unknown> {
  return getArgumentValues(field.def, field.node, build.variables);
}

/**
 * An object's JSON text (never NULL), its keys in the selection's order: the literal text between
 * its values, each stretch of it one SQL string, concatenated with the values' SQL.
 */
export function object(fields: Collected[], value: (field: Collected) => Value): string {
  const sql: string[] = [];
  let pending = '{';
  fields.forEach((field, i) => {
    pending += `${i ? ',' : ''}${JSON.stringify(field.key)}:`;
    const v = value(field);
    if ('literal' in v) {
      pending += v.literal;
      return;
    }
    if ('present' in v) {
      sql.push(quote(`${pending}"`), v.present);
      pending = '"';
      return;
    }
    sql.push(quote(pending), v.json);
    pending = '';
  });
  sql.push(quote(`${pending}}`));
  return sql.length === 1 ? sql[0]! : `(${sql.join(' || ')})`;
}

/** An object as a value: its JSON outright when none of its values needs a row. */
export function objectValue(fields: Collected[], value: (field: Collected) => Value): Json | Literal {
  const values = new Map(fields.map((field) => [field, value(field)]));
  if (![...values.values()].every((v) => 'literal' in v)) return json(object(fields, (field) => values.get(field)!));
  return literal(`{${fields.map((field) => `${JSON.stringify(field.key)}:${(values.get(field) as { literal: string }).literal}`).join(',')}}`);
}

/** An object read by a subquery, or null. */
export const objectOrNull = (select: string): Value => json(`COALESCE((${select}), 'null')`);
