// Per-request batching: every `load(id)` made while one GraphQL request resolves becomes a single
// `WHERE id IN (...)` per model. Federation's _entities resolves each representation on its own;
// these loaders are what keep 100 representations at one statement per type.
import DataLoader from 'dataloader';
import type { Device, Identity, PrismaClient, Session } from './generated/prisma/client.js';

export interface Loaders {
  identity: DataLoader<string, Identity | null>;
  session: DataLoader<string, Session | null>;
  device: DataLoader<string, Device | null>;
}

function byId<T extends { id: string }>(load: (ids: string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await load([...ids]);
    const found = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

export function createLoaders(prisma: PrismaClient): Loaders {
  return {
    identity: byId((ids) => prisma.identity.findMany({ where: { id: { in: ids } } })),
    session: byId((ids) => prisma.session.findMany({ where: { id: { in: ids } } })),
    device: byId((ids) => prisma.device.findMany({ where: { id: { in: ids } } })),
  };
}
