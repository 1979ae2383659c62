// A planned page of sessions (Relay connection, keyset cursors), and the status filters pages share.
import type { SessionStatus } from '../generated/prisma/enums.js';
import { activeSql, effectiveStatusSql } from '../domain/session-status.js';
import { decodeCursor, pageBounds, type ConnectionArgs, type SortKey } from '../schema/pagination.js';
import { enumLiteral, json, jsonOrNull, literal, object, plain, present, quote, typename, type Build } from './json.js';
import { sessionObject } from './objects.js';
import { Unplannable, type Collected } from './selection.js';

/** The one effective status the filter leaves a page's rows, if it leaves one. */
export function onlyStatus({ status, active }: { status?: readonly SessionStatus[] | null; active?: boolean | null }): SessionStatus | undefined {
  if (active === true) return 'ACTIVE';
  const statuses = new Set(status ?? []);
  // With `active: false` too, an ACTIVE-only filter matches nothing: any literal does then.
  return statuses.size === 1 ? [...statuses][0] : undefined;
}

export function statusConditions(s: string, build: Build, statuses: readonly SessionStatus[] | null | undefined, active: boolean | null | undefined): string[] {
  const conditions: string[] = [];
  if (!statuses?.length && active == null) return conditions;
  const now = build.now;
  // An empty list is no condition, as the resolvers' Prisma filter reads it.
  if (statuses?.length) {
    const each = [...new Set(statuses)].map((status) => (status === 'ACTIVE' ? activeSql(s, now) : `${effectiveStatusSql(s, now)} = ${enumLiteral(status)}`));
    conditions.push(`(${each.join(' OR ')})`);
  }
  if (active != null) conditions.push(active ? activeSql(s, now) : `NOT ${activeSql(s, now)}`);
  return conditions;
}

/** The Relay cursor of a session row: `v2:<createdAt ms>:<id>` (pagination.ts). */
function cursor(s: string): string {
  // date_part is float arithmetic (extract is numeric, several times slower); the times are whole
  // milliseconds (timestamptz(3)), so rounding is exact.
  return `('v2:' || round(date_part('epoch', ${s}.created_at) * 1000)::bigint || ':' || ${s}.id)`;
}

function keyset(s: string, key: SortKey, op: '<' | '>' | '<=' | '>=', build: Build): string {
  return `(${s}.created_at, ${s}.id) ${op} (${build.sql.param(key.createdAt, 'timestamptz')}, ${build.sql.param(key.id, 'uuid')})`;
}

/**
 * A page of sessions: the keyset page (one row more than asked, to learn whether another follows)
 * read once into an array of [edge JSON, cursor] pairs, in the page's order; edges, flags and
 * cursors are slices and elements of it. totalCount and the "rows beyond the cursor" flags only
 * when selected. `conditions` may name the session alias as `{s}`.
 *
 * An array, not window functions and an ordered aggregate over the rows: counted by callgrind on
 * the admin page of active sessions, row_number/count(*) OVER and string_agg(… ORDER BY n) were
 * an eighth of the statement's instructions (`npm run bench:instructions` measures them).
 */
export function sessionConnection(
  fields: Collected[],
  connectionArgs: ConnectionArgs,
  conditions: string[],
  build: Build,
  filter: { status?: SessionStatus[] | null; active?: boolean | null },
): string {
  const { size, backward } = pageBounds(connectionArgs, build.ctx.maxPageSize);
  // Written into the text (LIMIT, subscripts): a whole number, whatever reached this far.
  if (!Number.isSafeInteger(size)) throw new Unplannable();
  const after = connectionArgs.after ? decodeCursor(connectionArgs.after, 'after') : undefined;
  const before = connectionArgs.before ? decodeCursor(connectionArgs.before, 'before') : undefined;
  const where = (s: string) => [...conditions.map((c) => c.replaceAll('{s}', s)), ...statusConditions(s, build, filter.status, filter.active)];
  const s = build.sql.alias('s');
  const page = build.sql.alias('page');
  const q = `${page}_q`;
  const pageWhere = [...where(s), ...(after ? [keyset(s, after, '<', build)] : []), ...(before ? [keyset(s, before, '>', build)] : [])];
  const direction = backward ? 'ASC' : 'DESC';
  const exists = (key: SortKey, op: '<=' | '>=') => {
    const x = build.sql.alias('s');
    return `EXISTS (SELECT 1 FROM "public"."sessions" ${x} WHERE ${[...where(x), keyset(x, key, op, build)].join(' AND ')})`;
  };
  // The page's rows in the array: forward, the extra row (if any) is last; backward, the rows are
  // read from the cursor up and listed newest first, so the extra row is first.
  const more = `(${q}.len > ${size})`;
  const lo = backward ? `(GREATEST(${q}.len - ${size}, 0) + 1)` : '1';
  const hi = backward ? `${q}.len` : `LEAST(${q}.len, ${size})`;
  // The cursor is a column of the page's rows when something reads it, computed once per row; it
  // goes into the array only for pageInfo's start and end cursors.
  let cursorRead = false;
  let cursorListed = false;
  const pageCursor = () => {
    cursorRead = true;
    return `${page}.sg_cursor`;
  };
  // An empty page (first: 0 / last: 0 included) has neither cursor.
  const edgeCursor = (at: string) => {
    pageCursor();
    cursorListed = true;
    return size === 0 ? literal('null') : plain(`${q}.a[${at}][2]`);
  };
  let edge = quote('');
  const body = object(fields, (field) => {
    switch (field.name) {
      case '__typename': return typename('SessionConnection');
      case 'totalCount': {
        const x = build.sql.alias('s');
        const counted = where(x);
        return jsonOrNull(`SELECT count(*) FROM "public"."sessions" ${x}${counted.length ? ` WHERE ${counted.join(' AND ')}` : ''}`);
      }
      case 'edges': {
        edge = object(field.children!, (edgeField) => {
          switch (edgeField.name) {
            case '__typename': return typename('SessionEdge');
            case 'cursor': return present(pageCursor());
            case 'node': return json(sessionObject(edgeField.children!, page, build, onlyStatus(filter)));
            default: throw new Unplannable();
          }
        });
        return json(`('[' || array_to_string(${q}.a[${lo}:${hi}][1:1], ',') || ']')`);
      }
      case 'pageInfo':
        return json(object(field.children!, (info) => {
          switch (info.name) {
            case '__typename': return typename('PageInfo');
            case 'hasNextPage': return jsonOrNull(backward ? (before ? exists(before, '<=') : 'false') : more);
            case 'hasPreviousPage': return jsonOrNull(backward ? more : after ? exists(after, '>=') : 'false');
            case 'startCursor': return edgeCursor(lo);
            case 'endCursor': return edgeCursor(hi);
            default: throw new Unplannable();
          }
        }));
      default: throw new Unplannable();
    }
  });
  // LIMIT keeps this subquery apart from the array's, so each row's cursor is worked out once.
  // Only the columns the edges read (the row's SQL names them as `<page>.<column>`; aliases are
  // unique), and the sort key: each row goes through the array whole.
  const read = new Set(['created_at', 'id', ...[...edge.matchAll(new RegExp(`(?<![\\w.])${page}\\.(\\w+)`, 'g'))].map((m) => m[1]!)]);
  read.delete('sg_cursor');
  const columns = [...read].map((column) => `${s}.${column}`).join(', ');
  const rows = `(SELECT ${cursorRead ? `${cursor(s)} AS sg_cursor, ` : ''}${columns} FROM "public"."sessions" ${s}
    ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''} ORDER BY ${s}.created_at ${direction}, ${s}.id ${direction} LIMIT ${size + 1}) ${page}`;
  const listed = backward ? ` ORDER BY ${page}.created_at DESC, ${page}.id DESC` : '';
  const array = `array(SELECT ARRAY[${edge}, ${cursorListed ? `${page}.sg_cursor` : quote('')}] FROM ${rows}${listed})`;
  // OFFSET 0: the array is built once, however many times the body reads it.
  return `(SELECT ${body} FROM (SELECT ${q}_a.a, COALESCE(array_length(${q}_a.a, 1), 0) AS len FROM (SELECT ${array} AS a OFFSET 0) ${q}_a) ${q})`;
}

export interface SessionFilterArgs {
  identityId?: unknown;
  clientId?: string | null;
  status?: SessionStatus[] | null;
  active?: boolean | null;
  type?: string[] | null;
  externalSource?: string | null;
  externalId?: string | null;
}

