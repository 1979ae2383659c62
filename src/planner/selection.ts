// The planner's first step: an operation's selection, collected once per parsed document, and
// whether every field in it is one the planner answers. Anything else — another field, a directive —
// is Unplannable, and the operation runs through the resolvers.
import {
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

export interface Collected {
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
export const plannedNodeTypes = ['Identity', 'Session', 'Device'] as const;
export type NodeTypeName = (typeof plannedNodeTypes)[number];

/** Fields each planned type supports; anything else leaves the operation to the resolvers. */
export const supported: Record<string, ReadonlySet<string>> = {
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

export class Unplannable extends Error {}

/** Fields each type may have, by type name: the planner's reach for one kind of operation. */
export type Supported = Record<string, ReadonlySet<string>>;

export function collect(
  schema: GraphQLSchema,
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  into: Collected[] = [],
  reach: Supported = supported,
): Collected[] {
  const allowed = reach[type.name];
  if (!allowed) throw new Unplannable();
  const applies = (condition: string | undefined) =>
    condition === undefined || condition === type.name || type.getInterfaces().some((i) => i.name === condition);
  for (const selection of selectionSet.selections) {
    if (selection.directives?.length) throw new Unplannable(); // @include / @skip: left to graphql-js
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (applies(selection.typeCondition?.name.value)) collect(schema, type, selection.selectionSet, fragments, into, reach);
      continue;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || fragment.directives?.length) throw new Unplannable();
      if (applies(fragment.typeCondition.name.value)) collect(schema, type, fragment.selectionSet, fragments, into, reach);
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
    if (set && isObjectType(named)) field.children = collect(schema, named, set, fragments, field.children, reach);
    // Node (node, nodes) and federation's _Entity union: one selection per type an object may be.
    if (set && ((isInterfaceType(named) && named.name === 'Node') || (isUnionType(named) && named.name === '_Entity'))) {
      const byType = (field.byType ??= {});
      for (const typeName of plannedNodeTypes) byType[typeName] = collect(schema, schema.getType(typeName) as GraphQLObjectType, set, fragments, byType[typeName], reach);
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
  return operationPlan(schema, document, operationName, 'query', supported, collectedPlans);
}

/**
 * The operation of a document (`kind`) whose every field is within `reach`, or null; cached per
 * parsed document in `cache` (one per kind of operation).
 */
export function operationPlan(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  kind: 'query' | 'mutation',
  reach: Supported,
  cache: WeakMap<DocumentNode, Map<string, PlannableOperation | null>>,
): PlannableOperation | null {
  let byOperation = cache.get(document);
  if (!byOperation) cache.set(document, (byOperation = new Map()));
  const cacheKey = operationName ?? '';
  if (byOperation.has(cacheKey)) return byOperation.get(cacheKey)!;
  let plan: PlannableOperation | null = null;
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  const root = kind === 'query' ? schema.getQueryType() : schema.getMutationType();
  if (operation?.operation === kind && root && !operation.directives?.length) {
    const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
    try {
      const variables = operation.variableDefinitions ?? [];
      const simple = variables.map(simpleVariable);
      plan = {
        schema,
        fields: collect(schema, root, operation.selectionSet, fragments, [], reach),
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
