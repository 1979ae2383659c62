// Global ids are readable `Type:<uuid>` strings — Grid's own format (`Session:0195…`) — rather than
// Relay's usual base64, so an id in a log, a URL or a support ticket says what it points at.
import { badUserInput } from '../errors.js';

/** The node types that have global ids. */
export const nodeTypes = ['Identity', 'Session', 'Device', 'Credential', 'VerifiableAddress', 'RecoveryAddress', 'SessionEvent'] as const;
export type NodeType = (typeof nodeTypes)[number];

// A uuid's characters by code: 0 not allowed, 1 a lower-case hex digit, 2 an upper-case one.
// A loop over this table is twice as fast as a regular expression, and lower-cases only when needed
// (nodes(ids:) decodes a hundred ids a request).
const hexDigit = new Uint8Array(128);
for (const c of '0123456789abcdef') hexDigit[c.charCodeAt(0)] = 1;
for (const c of 'ABCDEF') hexDigit[c.charCodeAt(0)] = 2;

/** The uuid that starts at `from` (36 characters, either case), lower-cased, or undefined. */
function uuidAt(text: string, from: number): string | undefined {
  if (text.length - from !== 36) return undefined;
  let upper = false;
  for (let i = 0; i < 36; i++) {
    const code = text.charCodeAt(from + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (code !== 45 /* - */) return undefined;
      continue;
    }
    const kind = code < 128 ? hexDigit[code] : 0;
    if (!kind) return undefined;
    if (kind === 2) upper = true;
  }
  const id = text.slice(from);
  return upper ? id.toLowerCase() : id;
}

export function encodeGlobalId(typename: string, id: string | number | bigint): string {
  return `${typename}:${id}`;
}

/** A well-formed global id's type and (lower-cased) uuid, or undefined. */
export function parseGlobalId(globalId: string): { typename: NodeType; id: string } | undefined {
  const separator = globalId.indexOf(':');
  if (separator < 0) return undefined;
  const typename = globalId.slice(0, separator);
  if (!(nodeTypes as readonly string[]).includes(typename)) return undefined;
  const id = uuidAt(globalId, separator + 1);
  return id ? { typename: typename as NodeType, id } : undefined;
}

/** Splits and checks a global id; anything malformed (a non-string too) is a BAD_USER_INPUT naming the id. */
export function decodeGlobalId(globalId: unknown, expected?: NodeType): { typename: NodeType; id: string } {
  if (typeof globalId !== 'string') {
    throw badUserInput(`Invalid id ${JSON.stringify(globalId) ?? String(globalId)}: expected a string "<Type>:<uuid>"`, { argument: 'id' });
  }
  const parsed = parseGlobalId(globalId);
  if (!parsed) {
    throw badUserInput(
      `Invalid id ${JSON.stringify(globalId)}: expected "<Type>:<uuid>" with Type one of ${nodeTypes.join(', ')}`,
      { argument: 'id', value: globalId },
    );
  }
  if (expected && parsed.typename !== expected) {
    throw badUserInput(`Invalid id ${JSON.stringify(globalId)}: expected an id of type ${expected}, got one of type ${parsed.typename}`, {
      argument: 'id',
      value: globalId,
    });
  }
  return parsed;
}

/**
 * Relay's `nodes(ids:)` decodes every id before it resolves: a malformed one must not sink the
 * others, so it is carried to the resolver as this marker and answered there, at its position.
 */
export const malformedIdTypename = '!malformed';

export function decodeGlobalIdLeniently(globalId: string): { typename: string; id: string } {
  return (typeof globalId === 'string' && parseGlobalId(globalId)) || { typename: malformedIdTypename, id: globalId };
}
