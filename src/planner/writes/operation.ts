// Which mutations the planner writes itself: a mutation made of one planned write (and perhaps
// __typename), whose payload selects only what the write's own statement can answer. Rows the
// statement inserts or changes are seen by its own reads of the tables as they were (one snapshot),
// so the payload may not read them back through another row: no identity's sessions, no device's session.
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { operationPlan, supported, type PlannableOperation, type Supported } from '../selection.js';

const without = (fields: ReadonlySet<string>, ...names: string[]) => new Set([...fields].filter((name) => !names.includes(name)));

const writeReach: Supported = {
  ...supported,
  Query: new Set(),
  Mutation: new Set(['__typename', 'createSession', 'createSessionToken', 'confirmChallenge', 'confirmRevocation']),
  CreateSessionPayload: new Set(['__typename', 'session', 'sessionToken', 'encryptedSessionSigningKey']),
  // A signed revocation of one session answers these; any other operation the resolvers shape.
  ConfirmChallengePayload: new Set(['__typename', 'operation', 'session', 'revokedSessions']),
  ConfirmRevocationPayload: new Set(['__typename', 'operation', 'session', 'revokedSessions']),
  CreateSessionTokenPayload: new Set(['__typename', 'token']),
  SessionToken: new Set(['__typename', 'object', 'jwt', 'issuedAt', 'expiresAt', 'template']),
  Identity: without(supported.Identity!, 'sessions'),
  Device: without(supported.Device!, 'session'),
};

const mutationPlans = new WeakMap<DocumentNode, Map<string, PlannableOperation | null>>();

/** The plannable mutation of a document, or null (cached per parsed document): exactly one write. */
export function plannableMutation(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): PlannableOperation | null {
  const plan = operationPlan(schema, document, operationName, 'mutation', writeReach, mutationPlans);
  return plan && plan.fields.filter((field) => field.name !== '__typename').length === 1 ? plan : null;
}

/** The planned write of an operation (its one field), as plannableMutation() found it. */
export const plannedWriteField = (operation: PlannableOperation) => operation.fields.find((field) => field.name !== '__typename')!;

/** Whether the planned write checks an opaque session token in its own statement: the request leaves the lookup pending for it. */
export const checksSessionToken = (operation: PlannableOperation) => plannedWriteField(operation).name === 'createSessionToken';

/** An object's JSON text from values already JSON, its keys in the selection's order. */
export function payloadJson(fields: readonly { key: string; name: string }[], value: (name: string) => string): string {
  return `{${fields.map((field) => `${JSON.stringify(field.key)}:${value(field.name)}`).join(',')}}`;
}
