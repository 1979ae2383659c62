// node(id:), nodes(ids:) and federation's _entities: every id goes through the request's loaders
// (one statement per type, however many ids) and the visibility rules, so an object the caller may
// not see comes back null, exactly like an id that does not exist.
import { brandWithType } from '@pothos/core';
import type { Context } from '../context.js';
import { decodeGlobalId, malformedIdTypename, type NodeType } from '../domain/global-id.js';
import { loadVisible } from './node-visibility.js';

export interface DecodedId {
  typename: string;
  id: string;
}

/** The types with a loader; the rest (credentials, addresses) go through plugin-prisma's own loading. */
function loaderFor(ctx: Context, typename: string) {
  switch (typename as NodeType) {
    case 'Identity':
      return ctx.loaders.identity;
    case 'Session':
      return ctx.loaders.session;
    case 'Device':
      return ctx.loaders.device;
    default:
      return undefined;
  }
}

/**
 * The objects for `ids`, in order: null where there is none the caller may see, and at a malformed
 * id its BAD_USER_INPUT error, which GraphQL reports at that position only (Relay's contract).
 */
export async function loadNodes(
  ctx: Context,
  requested: DecodedId[],
  fallback: (ids: DecodedId[]) => Promise<unknown[]>,
): Promise<unknown[]> {
  const ids = requested.filter((id) => id.typename !== malformedIdTypename);
  const loaded = await loadWellFormed(ctx, ids, fallback); // anonymous callers are refused here, whatever the ids
  if (ids.length === requested.length) return loaded;
  let next = 0;
  return requested.map((id) => {
    if (id.typename !== malformedIdTypename) return loaded[next++];
    try {
      return decodeGlobalId(id.id) && null; // never reached: the marker means it did not decode
    } catch (error) {
      return error;
    }
  });
}

function loadWellFormed(ctx: Context, ids: DecodedId[], fallback: (ids: DecodedId[]) => Promise<unknown[]>): Promise<unknown[]> {
  return loadVisible(ctx, ids, async () => {
    const others = ids.filter((id) => !loaderFor(ctx, id.typename));
    const loadedOthers = others.length ? await fallback(others) : [];
    let next = 0;
    return Promise.all(
      ids.map(async (id) => {
        const loader = loaderFor(ctx, id.typename);
        if (!loader) return loadedOthers[next++];
        const row = await loader.load(id.id);
        // The Node interface tells types apart by this brand.
        if (row) brandWithType(row, id.typename as never);
        return row;
      }),
    );
  });
}
