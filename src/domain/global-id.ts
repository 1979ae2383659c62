// Global ids are readable `Type:<uuid>` strings — Grid's own format (`Session:0195…`) — rather than
// Relay's usual base64, so an id in a log, a URL or a support ticket says what it points at.
import { badUserInput } from '../errors.js';

/** The node types that have global ids. */
export const nodeTypes = ['Identity', 'Session', 'Device', 'Credential', 'VerifiableAddress', 'RecoveryAddress', 'SessionEvent'] as const;
export type NodeType = (typeof nodeTypes)[number];

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeGlobalId(typename: string, id: string | number | bigint): string {
  return `${typename}:${id}`;
}

/** Splits and checks a global id; anything malformed (a non-string too) is a BAD_USER_INPUT naming the id. */
export function decodeGlobalId(globalId: unknown, expected?: NodeType): { typename: NodeType; id: string } {
  if (typeof globalId !== 'string') {
    throw badUserInput(`Invalid id ${JSON.stringify(globalId) ?? String(globalId)}: expected a string "<Type>:<uuid>"`, { argument: 'id' });
  }
  const separator = globalId.indexOf(':');
  const typename = globalId.slice(0, separator);
  const id = globalId.slice(separator + 1).toLowerCase();
  if (separator < 0 || !(nodeTypes as readonly string[]).includes(typename) || !uuid.test(id)) {
    throw badUserInput(
      `Invalid id ${JSON.stringify(globalId)}: expected "<Type>:<uuid>" with Type one of ${nodeTypes.join(', ')}`,
      { argument: 'id', value: globalId },
    );
  }
  if (expected && typename !== expected) {
    throw badUserInput(`Invalid id ${JSON.stringify(globalId)}: expected an id of type ${expected}, got one of type ${typename}`, {
      argument: 'id',
      value: globalId,
    });
  }
  return { typename: typename as NodeType, id };
}

/**
 * Relay's `nodes(ids:)` decodes every id before it resolves: a malformed one must not sink the
 * others, so it is carried to the resolver as this marker and answered there, at its position.
 */
export const malformedIdTypename = '!malformed';

export function decodeGlobalIdLeniently(globalId: string): { typename: string; id: string } {
  try {
    return decodeGlobalId(globalId);
  } catch {
    return { typename: malformedIdTypename, id: globalId };
  }
}
