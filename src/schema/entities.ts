// Federation v2 entities: a gateway (and the other subgraphs behind it) can reference an Identity,
// Session or Device by its global id and have this subgraph resolve it. References go through the
// request's loaders (one statement per type for any number of them) and the same visibility rules
// as node(id:).
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { DeviceNode } from './device.js';
import { decodeGlobalId, type NodeType } from '../domain/global-id.js';
import { IdentityNode } from './identity.js';
import { loadNodes } from './node-loading.js';
import { SessionNode } from './session.js';

const key = builder.selection<{ id: string }>('id');

function resolveReference(type: NodeType & ('Identity' | 'Session' | 'Device')) {
  return async (reference: { id: string }, ctx: Context) => {
    const [visible] = await loadNodes(ctx, [decodeGlobalId(reference.id, type)], async () => []);
    return (visible ?? null) as never;
  };
}

builder.asEntity(IdentityNode, { key, resolveReference: resolveReference('Identity') });
builder.asEntity(SessionNode, { key, resolveReference: resolveReference('Session') });
builder.asEntity(DeviceNode, { key, resolveReference: resolveReference('Device') });
