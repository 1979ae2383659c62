// Planned reads: a query whose every field is one of the hot reads (the viewer, identities and
// sessions with their devices and authentication methods, their connections, node / nodes and a
// gateway's _entities) is compiled from its selection into ONE SQL statement that returns the
// response's `data` already shaped as JSON — PostGraphile's approach. No resolver runs and no row is mapped in JavaScript; visibility, admin-only
// fields, effective statuses, keyset cursors and page flags are all computed in SQL, exactly as the
// resolvers compute them (test/planner/planned-reads.test.ts compares the two on random operations).
// Anything else — another field, a directive, an argument the resolvers would refuse — is not
// planned, and the operation runs through the resolvers as before.
import type { Context } from '../context.js';
import { sessionCallerSql } from '../auth/session-rows.js';
import { parseGlobalId } from '../domain/global-id.js';
import { resolveId } from '../domain/vendor-ids.js';
import type { ConnectionArgs } from '../schema/pagination.js';
import { sessionConnection, type SessionFilterArgs } from './connections.js';
import { args, enumLiteral, hidden, json, list, objectOrNull, objectValue, quote, Statement, typename, type Build, type Value } from './json.js';
import { deviceObject, identityObject, sessionObject } from './objects.js';
import { coerceVariables, plannedNodeTypes, Unplannable, type Collected, type NodeTypeName, type PlannableOperation } from './selection.js';

export { coerceVariables, plannableOperation, type PlannableOperation } from './selection.js';


async function rootField(field: Collected, build: Build): Promise<Value> {
  const { ctx, sql } = build;
  switch (field.name) {
    case '__typename': return typename('Query');
    case 'viewer': {
      const own = build.own;
      return objectValue(field.children!, (viewerField) => {
        if (viewerField.name === '__typename') return typename('Viewer');
        if (!own) return hidden;
        if (viewerField.name === 'identity') {
          const i = sql.alias('i');
          return objectOrNull(`SELECT ${identityObject(viewerField.children!, i, build)} FROM "public"."identities" ${i} WHERE ${i}.id = ${own.identityId}`);
        }
        const s = sql.alias('s');
        return objectOrNull(`SELECT ${sessionObject(viewerField.children!, s, build)} FROM "public"."sessions" ${s} WHERE ${s}.id = ${own.sessionId}`);
      });
    }
    case 'identity': {
      const id = await resolveId(ctx.prisma, args(field, build).id, 'Identity');
      const i = sql.alias('i');
      const own = build.own ? ` AND ${i}.id = ${build.own.identityId}` : '';
      return objectOrNull(`SELECT ${identityObject(field.children!, i, build)} FROM "public"."identities" ${i} WHERE ${i}.id = ${sql.param(id, 'uuid')}${own}`);
    }
    case 'session': {
      const id = await resolveId(ctx.prisma, args(field, build).id, 'Session');
      const s = sql.alias('s');
      const own = build.own ? ` AND ${s}.identity_id = ${build.own.identityId}` : '';
      return objectOrNull(`SELECT ${sessionObject(field.children!, s, build)} FROM "public"."sessions" ${s} WHERE ${s}.id = ${sql.param(id, 'uuid')}${own}`);
    }
    case 'sessions': {
      const a = args(field, build) as ConnectionArgs & { filter?: SessionFilterArgs | null };
      const filter = a.filter ?? {};
      const conditions: string[] = [];
      if (filter.identityId != null) conditions.push(`{s}.identity_id = ${sql.param(await resolveId(ctx.prisma, filter.identityId, 'Identity'), 'uuid')}`);
      if (build.own) conditions.push(`{s}.identity_id = ${build.own.identityId}`);
      if (filter.clientId != null) conditions.push(`{s}.client_id = ${sql.param(filter.clientId, 'text')}`);
      if (filter.type) conditions.push(filter.type.length ? `{s}.type::text IN (${[...new Set(filter.type)].map(enumLiteral).join(', ')})` : 'false');
      if (filter.externalSource) conditions.push(`{s}.external_source::text = ${enumLiteral(filter.externalSource)}`);
      if (filter.externalId != null) conditions.push(`{s}.external_id = ${sql.param(filter.externalId, 'text')}`);
      return json(sessionConnection(field.children!, a, conditions, build, { status: filter.status, active: filter.active }));
    }
    case 'node':
    case 'nodes':
    case '_entities': {
      const raw = args(field, build);
      // The ids' types and uuids, in order. A malformed id (answered with an error at its position)
      // or one of another type is the resolvers' to answer.
      const types: string[] = [];
      const uuids: string[] = [];
      const add = (decoded: { typename: string; id: string } | undefined) => {
        if (!decoded || !(plannedNodeTypes as readonly string[]).includes(decoded.typename)) throw new Unplannable();
        types.push(decoded.typename);
        uuids.push(decoded.id);
      };
      if (field.name === '_entities') {
        // Representations name their type and carry the global id (the entities' @key).
        for (const representation of raw.representations as { __typename?: unknown; id?: unknown }[]) {
          const decoded = typeof representation?.id === 'string' ? parseGlobalId(representation.id) : undefined;
          add(decoded?.typename === representation.__typename ? decoded : undefined);
        }
      } else {
        for (const id of field.name === 'node' ? [raw.id] : (raw.ids as unknown[])) add(parseGlobalId(String(id)));
      }
      const x = sql.alias('x');
      const own = build.own?.identityId;
      const byType = field.byType!;
      const each = (typeName: NodeTypeName) => {
        const a = sql.alias(typeName[0]!.toLowerCase());
        switch (typeName) {
          case 'Identity':
            return `(SELECT ${identityObject(byType.Identity!, a, build)} FROM "public"."identities" ${a} WHERE ${a}.id = ${x}.id${own ? ` AND ${a}.id = ${own}` : ''})`;
          case 'Session':
            return `(SELECT ${sessionObject(byType.Session!, a, build)} FROM "public"."sessions" ${a} WHERE ${a}.id = ${x}.id${own ? ` AND ${a}.identity_id = ${own}` : ''})`;
          case 'Device':
            return `(SELECT ${deviceObject(byType.Device!, a, build)} FROM "public"."devices" ${a} WHERE ${a}.id = ${x}.id${own ? ` AND EXISTS (SELECT 1 FROM "public"."sessions" ${a}_s WHERE ${a}_s.id = ${a}.session_id AND ${a}_s.identity_id = ${own})` : ''})`;
        }
      };
      const value = `COALESCE(CASE ${plannedNodeTypes.map((typeName) => `WHEN ${x}.type = ${quote(typeName)} THEN ${each(typeName)}`).join(' ')} END, 'null')`;
      // The lists go as array literals written here: they hold only checked type names and uuids,
      // which need no quoting, where the driver would escape every element.
      const arrayLiteral = (values: string[]) => `{${values.join(',')}}`;
      const given = `unnest(${sql.param(arrayLiteral(types), 'text[]')}, ${sql.param(arrayLiteral(uuids), 'uuid[]')}) WITH ORDINALITY AS ${x}(type, id, n)`;
      return field.name === 'node' ? json(`(SELECT ${value} FROM ${given})`) : list(`SELECT ${value} FROM ${given} ORDER BY ${x}.n`);
    }
    default:
      throw new Unplannable();
  }
}

/** Begins every planned statement: a DBA sees in pg_stat_statements what they are; tests count them. */
export const plannedReadMark = '/* sessiongraph planned read */';

/**
 * The statement that answers an operation (`checksCaller`: it also authenticates the request's
 * pending session token, and its row says whether it did), or its data outright when nothing in it
 * needs a row.
 */
export type PlannedQuery = { sql: string; params: unknown[]; checksCaller: boolean } | { data: string };

/**
 * How a statement for the request's caller is built: an API caller sees admin-only fields, a session
 * its own identity — `own` as SQL when given (a pending token's lookup), else the caller's ids as
 * parameters. Parameters only once used: PostgreSQL cannot type one that the text never mentions.
 */
export function callerBuild(sql: Statement, ctx: Context, variables: Record<string, unknown>, own?: Build['own']): Build {
  const { caller } = ctx;
  let now: string | undefined;
  let identityParam: string | undefined;
  let sessionParam: string | undefined;
  const session = caller?.kind === 'session' ? caller : undefined;
  return {
    sql,
    ctx,
    variables,
    admin: caller?.kind === 'apiClient',
    own:
      own ??
      (session
        ? {
            get identityId() {
              return (identityParam ??= sql.param(session.identityId, 'uuid'));
            },
            get sessionId() {
              return (sessionParam ??= sql.param(session.sessionId, 'uuid'));
            },
          }
        : null),
    get now() {
      return (now ??= sql.param(ctx.now(), 'timestamptz'));
    },
  };
}

/** The pending token's lookup, as the planned statement's FROM item. */
const callerAlias = 'caller';

/**
 * The one statement that answers a plannable operation, or undefined when an argument is one the
 * resolvers would refuse (they then answer with the proper error). For a pending session token
 * (ctx.pendingSession) the statement starts from the token's lookup: its row has the caller's ids,
 * whether the token authenticates, and the data only if it does.
 */
export async function planQuery(operation: PlannableOperation, ctx: Context, rawVariables: Record<string, unknown>): Promise<PlannedQuery | undefined> {
  const { caller, pendingSession } = ctx;
  if (!caller && !pendingSession) return undefined;
  // The variables as the client sent them are not yet what their types say (execution coerces
  // them, after this runs): coerce them here as execution would, and leave any that fail to the
  // resolvers, which name the problem. Only coerced values reach the statement's text.
  const variables = coerceVariables(operation, rawVariables);
  if (!variables) return undefined;
  const { fields } = operation;
  const sql = new Statement();
  const build = callerBuild(sql, ctx, variables, pendingSession ? { identityId: `${callerAlias}.identity_id`, sessionId: `${callerAlias}.session_id` } : undefined);
  try {
    const values = new Map<Collected, Value>();
    for (const field of fields) values.set(field, await rootField(field, build));
    const data = objectValue(fields, (field) => values.get(field)!);
    // `{ __typename }` (a gateway's health check) or a viewer an API token has not: no statement.
    if ('literal' in data) return { data: data.literal };
    if (!pendingSession) return { sql: `${plannedReadMark} SELECT ${data.json} AS data`, params: sql.params, checksCaller: false };
    const lookup = sessionCallerSql(sql.param(pendingSession.tokenHash, 'bytea'), build.now);
    return {
      sql: `${plannedReadMark} SELECT ${callerAlias}.session_id AS "sessionId", ${callerAlias}.identity_id AS "identityId", ${callerAlias}.authenticates,
  CASE WHEN ${callerAlias}.authenticates THEN ${data.json} END AS data FROM (${lookup}) ${callerAlias}`,
      params: sql.params,
      checksCaller: true,
    };
  } catch {
    // A bad cursor, a page too large, a malformed id: the resolvers say so, with the right error.
    return undefined;
  }
}
