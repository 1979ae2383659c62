// node(id:), nodes(ids:) (and federation's _entities) load any object by id; a session caller must
// still see only its own identity's objects. Objects it may not see come back null, exactly like
// ids that do not exist.
import { visibleIdentity } from '../auth/guards.js';
import type { Context } from '../context.js';

type Row = Record<string, unknown> | null | undefined;

export async function loadVisible(
  ctx: Context,
  ids: { typename: string }[],
  load: () => Promise<readonly unknown[]>,
): Promise<unknown[]> {
  const identityId = visibleIdentity(ctx); // anonymous callers stop here, before any query
  const nodes = await load();
  if (identityId === null) return [...nodes];
  const rows = nodes as Row[];
  // A device belongs to an identity through its session: the session loader batches those lookups.
  const deviceSessions = rows.flatMap((row, i) => (row && ids[i]?.typename === 'Device' ? [String(row.sessionId)] : []));
  const ownSessions = new Set(
    (await ctx.loaders.session.loadMany(deviceSessions)).flatMap((s) => (s && !(s instanceof Error) && s.identityId === identityId ? [s.id] : [])),
  );
  return rows.map((row, i) => {
    if (!row) return null;
    switch (ids[i]?.typename) {
      case 'Identity':
        return row.id === identityId ? row : null;
      case 'Device':
        return ownSessions.has(String(row.sessionId)) ? row : null;
      default:
        // Session, Credential, addresses: they carry their identity. Missing means not visible.
        return row.identityId === identityId ? row : null;
    }
  });
}
