// Planned reads: a query whose every field is one of the hot reads (the viewer, identities and
// sessions with their devices and authentication methods, their connections, node / nodes and a
// gateway's _entities) is compiled from its selection into ONE SQL statement that returns the
// response's `data` already shaped as JSON — PostGraphile's approach. No resolver runs and no row is mapped in JavaScript; visibility, admin-only
// fields, effective statuses, keyset cursors and page flags are all computed in SQL, exactly as the
// resolvers compute them (test/schema/planned-reads.test.ts compares the two on random operations).
// Anything else — another field, a directive, an argument the resolvers would refuse — is not
// planned, and the operation runs through the resolvers as before.
import {
  getArgumentValues,
  getNamedType,
  getVariableValues,
  isInterfaceType,
  isObjectType,
  isUnionType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { Context } from '../context.js';
import type { SessionStatus } from '../generated/prisma/enums.js';
import { sessionCallerSql } from '../auth/session-rows.js';
import { parseGlobalId } from '../domain/global-id.js';
import { derivedAalSql } from '../domain/authentication-method.js';
import { activeSql, effectiveStatusSql } from '../domain/session-status.js';
import { resolveId } from '../domain/vendor-ids.js';
import { decodeCursor, pageBounds, type ConnectionArgs, type SortKey } from './pagination.js';

// ---------------------------------------------------------------- the selection, collected once

interface Collected {
  /** Response key (alias or name). */
  key: string;
  name: string;
  node: FieldNode;
  def: GraphQLField<unknown, unknown>;
  /** The fields selected below, when the field is an object or list of objects. */
  children?: Collected[];
  /** For a field of the Node interface: the fields selected below, for each type a node may be. */
  byType?: Partial<Record<NodeTypeName, Collected[]>>;
}

/** The Node types a planned node(id:) / nodes(ids:) reads; an id of another type is left to the resolvers. */
const plannedNodeTypes = ['Identity', 'Session', 'Device'] as const;
type NodeTypeName = (typeof plannedNodeTypes)[number];

/** Fields each planned type supports; anything else leaves the operation to the resolvers. */
const supported: Record<string, ReadonlySet<string>> = {
  Query: new Set(['__typename', 'viewer', 'sessions', 'identity', 'session', 'node', 'nodes', '_entities']),
  Viewer: new Set(['__typename', 'identity', 'session']),
  Identity: new Set(['__typename', 'id', 'externalSource', 'externalId', 'schemaId', 'schemaUrl', 'traits', 'state', 'stateChangedAt', 'organizationId', 'metadataPublic', 'metadataAdmin', 'createdAt', 'updatedAt', 'sessions']),
  Session: new Set(['__typename', 'id', 'externalSource', 'externalId', 'type', 'nickname', 'status', 'active', 'aal', 'authenticationMethods', 'clientId', 'actor', 'lastActiveOrganizationId', 'lastActiveAt', 'issuedAt', 'authenticatedAt', 'createdAt', 'updatedAt', 'expiresAt', 'abandonAt', 'revokedAt', 'revokedBySessionId', 'revocationReason', 'tokenized', 'signingPublicKey', 'devices', 'identity']),
  Device: new Set(['__typename', 'id', 'externalId', 'ipAddress', 'location', 'userAgent', 'firstSeenAt', 'lastSeenAt', 'session']),
  AuthenticationMethod: new Set(['__typename', 'method', 'aal', 'completedAt', 'provider', 'organization']),
  SessionConnection: new Set(['__typename', 'edges', 'pageInfo', 'totalCount']),
  SessionEdge: new Set(['__typename', 'cursor', 'node']),
  PageInfo: new Set(['__typename', 'hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor']),
};

class Unplannable extends Error {}

function collect(schema: GraphQLSchema, type: GraphQLObjectType, selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, into: Collected[] = []): Collected[] {
  const allowed = supported[type.name];
  if (!allowed) throw new Unplannable();
  const applies = (condition: string | undefined) =>
    condition === undefined || condition === type.name || type.getInterfaces().some((i) => i.name === condition);
  for (const selection of selectionSet.selections) {
    if (selection.directives?.length) throw new Unplannable(); // @include / @skip: left to graphql-js
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (applies(selection.typeCondition?.name.value)) collect(schema, type, selection.selectionSet, fragments, into);
      continue;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || fragment.directives?.length) throw new Unplannable();
      if (applies(fragment.typeCondition.name.value)) collect(schema, type, fragment.selectionSet, fragments, into);
      continue;
    }
    const name = selection.name.value;
    const key = selection.alias?.value ?? name;
    if (!allowed.has(name)) throw new Unplannable();
    const def = name === '__typename' ? undefined : type.getFields()[name];
    if (name !== '__typename' && !def) throw new Unplannable();
    const named = def ? getNamedType(def.type) : undefined;
    // A response key selected again (validation has made sure it is the same field with the same
    // arguments) merges into the first: its sub-selections add to the first one's.
    const field: Collected = into.find((existing) => existing.key === key) ?? { key, name, node: selection, def: def as GraphQLField<unknown, unknown> };
    const set = selection.selectionSet;
    if (set && isObjectType(named)) field.children = collect(schema, named, set, fragments, field.children);
    // Node (node, nodes) and federation's _Entity union: one selection per type an object may be.
    if (set && ((isInterfaceType(named) && named.name === 'Node') || (isUnionType(named) && named.name === '_Entity'))) {
      const byType = (field.byType ??= {});
      for (const typeName of plannedNodeTypes) byType[typeName] = collect(schema, schema.getType(typeName) as GraphQLObjectType, set, fragments, byType[typeName]);
    }
    if (set && !field.children && !field.byType) throw new Unplannable();
    if (!into.includes(field)) into.push(field);
  }
  // A bound on the statement's size: no hot read selects more than 50 fields of one object.
  if (into.length > 50) throw new Unplannable();
  return into;
}

/** A plannable operation: its root fields, and the variables it declares (coerced per request). */
export interface PlannableOperation {
  schema: GraphQLSchema;
  fields: Collected[];
  variables: readonly VariableDefinitionNode[];
  /** How to see that the variables sent are already what coercion would make them, when the types allow. */
  simpleVariables: SimpleVariable[] | null;
}

/** A variable of a built-in scalar (or a list of one), without a default: its coerced value is the value sent, when that is of the right JavaScript type. */
interface SimpleVariable {
  name: string;
  scalar: 'ID' | 'String' | 'Int' | 'Boolean';
  list: boolean;
  nonNull: boolean;
  nonNullItems: boolean;
}

const simpleScalars = new Set(['ID', 'String', 'Int', 'Boolean']);

function simpleVariable(definition: VariableDefinitionNode): SimpleVariable | null {
  if (definition.defaultValue) return null;
  let type = definition.type;
  const nonNull = type.kind === Kind.NON_NULL_TYPE;
  if (type.kind === Kind.NON_NULL_TYPE) type = type.type;
  const list = type.kind === Kind.LIST_TYPE;
  let nonNullItems = false;
  if (type.kind === Kind.LIST_TYPE) {
    type = type.type;
    nonNullItems = type.kind === Kind.NON_NULL_TYPE;
    if (type.kind === Kind.NON_NULL_TYPE) type = type.type;
  }
  if (type.kind !== Kind.NAMED_TYPE || !simpleScalars.has(type.name.value)) return null;
  return { name: definition.variable.name.value, scalar: type.name.value as SimpleVariable['scalar'], list, nonNull, nonNullItems };
}

/** A value graphql-js's coercion returns unchanged (ID and String take strings only here; numbers take the long way). */
function isCoercedScalar(scalar: SimpleVariable['scalar'], value: unknown): boolean {
  switch (scalar) {
    case 'ID':
    case 'String': return typeof value === 'string';
    case 'Int': return Number.isInteger(value) && (value as number) <= 2147483647 && (value as number) >= -2147483648;
    case 'Boolean': return typeof value === 'boolean';
  }
}

/** The variables sent, when each is already what coercion would make it; otherwise undefined. */
function alreadyCoerced(variables: readonly SimpleVariable[], raw: Record<string, unknown>): Record<string, unknown> | undefined {
  const coerced: Record<string, unknown> = {};
  for (const variable of variables) {
    if (!Object.hasOwn(raw, variable.name)) return undefined;
    const value = raw[variable.name];
    if (value === null) {
      if (variable.nonNull) return undefined;
    } else if (variable.list) {
      if (!Array.isArray(value)) return undefined;
      for (const item of value) if (item === null ? variable.nonNullItems : !isCoercedScalar(variable.scalar, item)) return undefined;
    } else if (!isCoercedScalar(variable.scalar, value)) return undefined;
    coerced[variable.name] = value;
  }
  return coerced;
}

/**
 * The variables as execution would coerce them, without the walk when every one is already in its
 * coerced form (nodes' hundred ids: graphql-js would copy the list and track a path per entry), or
 * undefined when a value has the wrong type (the resolvers then name it). Anything not simple — a
 * default, an input object, an enum, a single value for a list, a number for an ID, a variable not
 * sent — goes through graphql-js itself.
 */
export function coerceVariables(operation: PlannableOperation, raw: Record<string, unknown>): Record<string, unknown> | undefined {
  const simple = operation.simpleVariables && alreadyCoerced(operation.simpleVariables, raw);
  if (simple) return simple;
  const result = getVariableValues(operation.schema, operation.variables, raw, { maxErrors: 1 });
  return result.errors ? undefined : result.coerced;
}

const collectedPlans = new WeakMap<DocumentNode, Map<string, PlannableOperation | null>>();

/** The plannable query operation of a document, or null (cached per parsed document). */
export function plannableOperation(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): PlannableOperation | null {
  let byOperation = collectedPlans.get(document);
  if (!byOperation) collectedPlans.set(document, (byOperation = new Map()));
  const cacheKey = operationName ?? '';
  if (byOperation.has(cacheKey)) return byOperation.get(cacheKey)!;
  let plan: PlannableOperation | null = null;
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (operation?.operation === 'query' && !operation.directives?.length) {
    const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
    try {
      const variables = operation.variableDefinitions ?? [];
      const simple = variables.map(simpleVariable);
      plan = {
        schema,
        fields: collect(schema, schema.getQueryType()!, operation.selectionSet, fragments),
        variables,
        simpleVariables: simple.every((v) => v !== null) ? (simple as SimpleVariable[]) : null,
      };
    } catch (error) {
      if (!(error instanceof Unplannable)) throw error;
    }
  }
  byOperation.set(cacheKey, plan);
  return plan;
}

// ---------------------------------------------------------------- SQL, built per request

// The statement writes the response's JSON text itself, so Node only passes it on. Not with
// json_build_object, though: it costs PostgreSQL two to three times what the same values cost as
// text (it looks up how to write each value, every time), which put our reads above the raw-SQL
// baseline's database time. Each value is written as JSON text on its own — strings escaped by
// to_json, ids, enum names, times and cursors (nothing to escape) just quoted, lists, nested
// objects, stored JSON, booleans and numbers as they are — and concatenated between the literal
// keys and punctuation, in the selection's order.

/** Values travel as parameters; only checked enum names and integers are written into the text. */
class Statement {
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

interface Build {
  sql: Statement;
  ctx: Context;
  variables: Record<string, unknown>;
  /** API callers see admin-only fields; a session sees its own identity only. */
  admin: boolean;
  /** A session caller's ids as SQL (parameters, or the columns of a pending token's lookup); null for an API caller. */
  own: { identityId: string; sessionId: string } | null;
  readonly now: string;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const enumLiteral = (value: string) => {
  if (!/^[A-Z][A-Z0-9_]*$/.test(value)) throw new Unplannable();
  return `'${value}'`;
};
/** A timestamp as the DateTime scalar serializes it (toISOString). */
const isoTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const globalId = (type: string, column: string) => `(${quote(`${type}:`)} || ${column})`;

/**
 * A field's value: SQL whose text is the value's JSON (never NULL: 'null'), JSON known in advance,
 * or SQL text never NULL with nothing to escape, which the object's literal text quotes.
 */
type Value = Json | Literal | { present: string };
type Json = { json: string };
type Literal = { literal: string };
const json = (sql: string): Json => ({ json: sql });
/** JSON that does not depend on the row: a type name, or null for a field the caller may not see. */
const literal = (jsonText: string): Literal => ({ literal: jsonText });
const typename = (name: string) => literal(JSON.stringify(name));
const hidden = literal('null');
/** Text, escaped for JSON (to_json per value measured cheaper than json_object over an array of them). */
const text = (sql: string): Value => json(`COALESCE(to_json((${sql})::text)::text, 'null')`);
/** Text with nothing JSON would escape (ids, enum names, formatted times, cursors, hex): quoted as it is. */
const plain = (sql: string): Value => json(`COALESCE('"' || ${sql} || '"', 'null')`);
/**
 * Like plain, for a value that is never NULL (a NOT NULL column): no COALESCE, and its quotes join
 * the literal text around it — a row's JSON is a chain of concatenations, each one costs the backend.
 */
const present = (sql: string): Value => ({ present: sql });
/** A nullable value whose SQL text is its JSON (numbers, booleans, json/jsonb columns). */
const jsonOrNull = (sql: string): Value => json(`COALESCE((${sql})::text, 'null')`);
/** A list of objects: `select` returns each object's JSON, in order (array() keeps the subquery's order). */
const list = (select: string): Value => json(`('[' || array_to_string(array(${select}), ',') || ']')`);

/** The one effective status the filter leaves a page's rows, if it leaves one. */
function onlyStatus({ status, active }: { status?: readonly SessionStatus[] | null; active?: boolean | null }): SessionStatus | undefined {
  if (active === true) return 'ACTIVE';
  const statuses = new Set(status ?? []);
  // With `active: false` too, an ACTIVE-only filter matches nothing: any literal does then.
  return statuses.size === 1 ? [...statuses][0] : undefined;
}

function statusConditions(s: string, build: Build, statuses: readonly SessionStatus[] | null | undefined, active: boolean | null | undefined): string[] {
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

function args(field: Collected, build: Build): Record<string, unknown> {
  return getArgumentValues(field.def, field.node, build.variables);
}

/**
 * An object's JSON text (never NULL), its keys in the selection's order: the literal text between
 * its values, each stretch of it one SQL string, concatenated with the values' SQL.
 */
function object(fields: Collected[], value: (field: Collected) => Value): string {
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
function objectValue(fields: Collected[], value: (field: Collected) => Value): Json | Literal {
  const values = new Map(fields.map((field) => [field, value(field)]));
  if (![...values.values()].every((v) => 'literal' in v)) return json(object(fields, (field) => values.get(field)!));
  return literal(`{${fields.map((field) => `${JSON.stringify(field.key)}:${(values.get(field) as { literal: string }).literal}`).join(',')}}`);
}

function identityObject(fields: Collected[], i: string, build: Build): string {
  return object(fields, (field) => {
    switch (field.name) {
      case '__typename': return typename('Identity');
      case 'id': return present(globalId('Identity', `${i}.id`));
      case 'externalSource': return plain(`${i}.external_source::text`);
      case 'externalId': return text(`${i}.external_id`);
      case 'schemaId': return text(`${i}.schema_id`);
      case 'schemaUrl': return text(`${i}.schema_url`);
      case 'traits': return jsonOrNull(`${i}.traits`);
      case 'state': return present(`${i}.state::text`);
      case 'stateChangedAt': return plain(isoTime(`${i}.state_changed_at`));
      case 'organizationId': return text(`${i}.organization_id`);
      case 'metadataPublic': return jsonOrNull(`${i}.metadata_public`);
      case 'metadataAdmin': return build.admin ? jsonOrNull(`${i}.metadata_admin`) : hidden;
      case 'createdAt': return present(isoTime(`${i}.created_at`));
      case 'updatedAt': return present(isoTime(`${i}.updated_at`));
      case 'sessions': {
        const a = args(field, build) as ConnectionArgs & { status?: SessionStatus[] | null; active?: boolean | null };
        return json(sessionConnection(field.children!, a, [`{s}.identity_id = ${i}.id`], build, { status: a.status, active: a.active }));
      }
      default: throw new Unplannable();
    }
  });
}

/**
 * A session's JSON. `status` is given when the rows' filter leaves them only one (a page of
 * `active: true` sessions is all ACTIVE): it is then written as a literal, not worked out per row.
 */
function sessionObject(fields: Collected[], s: string, build: Build, status?: SessionStatus): string {
  return object(fields, (field) => {
    switch (field.name) {
      case '__typename': return typename('Session');
      case 'id': return present(globalId('Session', `${s}.id`));
      case 'externalSource': return plain(`${s}.external_source::text`);
      case 'externalId': return text(`${s}.external_id`);
      case 'type': return plain(`${s}.type::text`);
      case 'nickname': return text(`${s}.nickname`);
      case 'status': return status ? literal(JSON.stringify(status)) : present(effectiveStatusSql(s, build.now));
      case 'active': return status ? literal(String(status === 'ACTIVE')) : jsonOrNull(`${effectiveStatusSql(s, build.now)} = 'ACTIVE'`);
      case 'aal': return plain(derivedAalSql(s));
      case 'clientId': return text(`${s}.client_id`);
      case 'actor': return jsonOrNull(`${s}.actor`);
      case 'lastActiveOrganizationId': return text(`${s}.last_active_organization_id`);
      case 'lastActiveAt': return plain(isoTime(`${s}.last_active_at`));
      case 'issuedAt': return present(isoTime(`${s}.issued_at`));
      case 'authenticatedAt': return plain(isoTime(`${s}.authenticated_at`));
      case 'createdAt': return present(isoTime(`${s}.created_at`));
      case 'updatedAt': return present(isoTime(`${s}.updated_at`));
      case 'expiresAt': return plain(isoTime(`${s}.expires_at`));
      case 'abandonAt': return plain(isoTime(`${s}.abandon_at`));
      case 'revokedAt': return plain(isoTime(`${s}.revoked_at`));
      case 'revokedBySessionId': return plain(globalId('Session', `${s}.revoked_by_session_id`));
      case 'revocationReason': return build.admin ? text(`${s}.revocation_reason`) : hidden;
      case 'tokenized': return text(`${s}.tokenized`);
      case 'signingPublicKey': return plain(`encode(${s}.signing_public_key, 'hex')`);
      case 'authenticationMethods': return json(authenticationMethods(field.children!, s));
      case 'devices': {
        const d = build.sql.alias('d');
        return list(`SELECT ${deviceObject(field.children!, d, build)} FROM "public"."devices" ${d} WHERE ${d}.session_id = ${s}.id ORDER BY ${d}.last_seen_at DESC, ${d}.id DESC`);
      }
      case 'identity': {
        if (onlyId(field)) return json(idObject(field.children!, 'Identity', `${s}.identity_id`));
        const i = build.sql.alias('i');
        return json(`COALESCE((SELECT ${identityObject(field.children!, i, build)} FROM "public"."identities" ${i} WHERE ${i}.id = ${s}.identity_id), 'null')`);
      }
      default: throw new Unplannable();
    }
  });
}

/**
 * A parent's required object (its foreign key is NOT NULL, and whoever sees the child sees the
 * parent) selected only for its id: written from the key, without reading the parent's row.
 */
const onlyId = (field: Collected) => field.children!.every((child) => child.name === 'id' || child.name === '__typename');
const idObject = (fields: Collected[], type: string, key: string) =>
  object(fields, (field) => (field.name === 'id' ? present(globalId(type, key)) : typename(type)));

function deviceObject(fields: Collected[], d: string, build: Build): string {
  return object(fields, (field) => {
    switch (field.name) {
      case '__typename': return typename('Device');
      case 'id': return present(globalId('Device', `${d}.id`));
      case 'externalId': return text(`${d}.external_id`);
      case 'ipAddress': return text(`${d}.ip_address`);
      case 'location': return text(`${d}.location`);
      case 'userAgent': return text(`${d}.user_agent`);
      case 'firstSeenAt': return present(isoTime(`${d}.first_seen_at`));
      case 'lastSeenAt': return present(isoTime(`${d}.last_seen_at`));
      case 'session': {
        if (onlyId(field)) return json(idObject(field.children!, 'Session', `${d}.session_id`));
        const s = build.sql.alias('s');
        return json(`COALESCE((SELECT ${sessionObject(field.children!, s, build)} FROM "public"."sessions" ${s} WHERE ${s}.id = ${d}.session_id), 'null')`);
      }
      default: throw new Unplannable();
    }
  });
}

/** The stored steps (a JSON array; anything else reads as none), as AuthenticationMethod objects. */
function authenticationMethods(fields: Collected[], s: string): string {
  const m = `${s}_m`;
  const keys = ['method', 'aal', 'completedAt', 'provider', 'organization'];
  const value = object(fields, (field) => {
    switch (field.name) {
      case '__typename': return typename('AuthenticationMethod');
      // Stored as written by toISOString (or a vendor's ISO time): read back through a timestamp, as new Date() does.
      case 'completedAt': return plain(isoTime(`${m}."completedAt"::timestamptz`));
      default:
        if (!keys.includes(field.name)) throw new Unplannable();
        return text(`${m}.${JSON.stringify(field.name)}`);
    }
  });
  // jsonb_to_recordset reads each step's keys as ->> would, in the array's order (a function scan
  // returns its rows in order, which array() keeps); a step that is not an object makes the statement
  // fail, and the resolvers answer with their error.
  // Only the selected keys become columns (each one costs every step a lookup); at least one.
  const columns = keys.filter((key) => key === 'method' || fields.some((field) => field.name === key));
  return `('[' || array_to_string(array(SELECT ${value}
    FROM jsonb_to_recordset(CASE WHEN jsonb_typeof(${s}.authentication_methods) = 'array' THEN ${s}.authentication_methods ELSE '[]'::jsonb END)
      AS ${m}(${columns.map((key) => `${JSON.stringify(key)} text`).join(', ')})), ',') || ']')`;
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
 * an eighth of the statement's instructions (docs/performance.md).
 */
function sessionConnection(
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

interface SessionFilterArgs {
  identityId?: unknown;
  clientId?: string | null;
  status?: SessionStatus[] | null;
  active?: boolean | null;
  type?: string[] | null;
  externalSource?: string | null;
  externalId?: string | null;
}

/** An object read by a subquery, or null. */
const objectOrNull = (select: string): Value => json(`COALESCE((${select}), 'null')`);

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
  // Parameters only once used: PostgreSQL cannot type one that the text never mentions.
  let now: string | undefined;
  let identityParam: string | undefined;
  let sessionParam: string | undefined;
  const session = caller?.kind === 'session' ? caller : undefined;
  const build: Build = {
    sql,
    ctx,
    variables,
    admin: caller?.kind === 'apiClient',
    own: pendingSession
      ? { identityId: `${callerAlias}.identity_id`, sessionId: `${callerAlias}.session_id` }
      : session
        ? {
            get identityId() {
              return (identityParam ??= sql.param(session.identityId, 'uuid'));
            },
            get sessionId() {
              return (sessionParam ??= sql.param(session.sessionId, 'uuid'));
            },
          }
        : null,
    get now() {
      return (now ??= sql.param(ctx.now(), 'timestamptz'));
    },
  };
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
