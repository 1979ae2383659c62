// Keyset pagination over (createdAt desc, id desc), the one order every connection uses. A cursor
// holds the sort key of its row, not an offset and not a lookup of that row, so rows inserted,
// revoked or deleted while a client pages never shift a page: no duplicates, no gaps (the bug
// Kratos' page numbers have, ory/kratos#3883).
import { badUserInput } from '../errors.js';

/** Page size when a client gives neither `first` nor `last`; the largest is MAX_PAGE_SIZE (100). */
export const defaultPageSize = 20;

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

export interface SortKey {
  createdAt: Date;
  id: string;
}

/**
 * The Prisma `where` fragment for rows on one side of a sort key. The plain bound on createdAt is
 * implied by the OR, and there for PostgreSQL: it turns "start at the cursor" into an index range
 * instead of a scan from the top (23 ms → 0.5 ms for a page 20,000 rows deep).
 */
export interface KeysetWhere {
  createdAt: { lte: Date } | { gte: Date };
  OR: [{ createdAt: { lt: Date } | { gt: Date } }, { id: { lt: string } | { gt: string } | { lte: string } | { gte: string } }];
}

/** Rows older than `key` (after it in our order), or newer (before it); `inclusive` adds the row itself. */
function beyond(key: SortKey, side: 'older' | 'newer', inclusive = false): KeysetWhere {
  const op = side === 'older' ? (inclusive ? 'lte' : 'lt') : inclusive ? 'gte' : 'gt';
  return {
    createdAt: side === 'older' ? { lte: key.createdAt } : { gte: key.createdAt },
    OR: [{ createdAt: side === 'older' ? { lt: key.createdAt } : { gt: key.createdAt } }, { id: { [op]: key.id } as { lt: string } }],
  };
}

// A cursor is `v2:<createdAt ms>:<id>`, as it is: a planned read has PostgreSQL write one for every
// row of a page, and base64 made that the most expensive value on the page (about 4 µs a row).
// Cursors handed out before, base64url of `v1:<createdAt ms>:<id>`, keep working.
const cursorPrefix = 'v2:';
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const cursorText = /^v2:(\d{1,15}):(.+)$/;
const base64CursorText = /^v1:(\d{1,15}):(.+)$/;

export function encodeCursor(row: SortKey): string {
  return `${cursorPrefix}${row.createdAt.getTime()}:${row.id}`;
}

export function decodeCursor(cursor: string, argument: 'after' | 'before'): SortKey {
  const match = cursor.startsWith(cursorPrefix) ? cursorText.exec(cursor) : base64CursorText.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || !uuid.test(match[2]!)) {
    throw badUserInput(`Invalid cursor ${JSON.stringify(cursor)} in "${argument}": use a cursor from this connection's edges or pageInfo`, {
      argument,
      value: cursor,
    });
  }
  return { createdAt: new Date(Number(match[1])), id: match[2]! };
}

export interface PagePlan {
  /** Extra conditions for the page query. */
  where: KeysetWhere[];
  orderBy: [{ createdAt: 'asc' | 'desc' }, { id: 'asc' | 'desc' }];
  /** Rows to fetch: one more than the page, to learn whether another page follows. */
  take: number;
  size: number;
  backward: boolean;
  after?: SortKey;
  before?: SortKey;
}

function pageSize(value: number | null | undefined, argument: 'first' | 'last', maxPageSize: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (value < 0) throw badUserInput(`"${argument}" must not be negative (got ${value})`, { argument, value });
  if (value > maxPageSize) {
    throw badUserInput(`"${argument}" may be at most ${maxPageSize} (got ${value}); page with the cursors instead`, {
      argument,
      value,
    });
  }
  return value;
}

/** Checks first / last: how many rows the page holds, and whether it is counted from the end. */
export function pageBounds(args: ConnectionArgs, maxPageSize: number): { size: number; backward: boolean } {
  const first = pageSize(args.first, 'first', maxPageSize);
  const last = pageSize(args.last, 'last', maxPageSize);
  if (first !== undefined && last !== undefined) {
    throw badUserInput('Give "first" or "last", not both', { argument: 'last' });
  }
  return { size: last ?? first ?? Math.min(defaultPageSize, maxPageSize), backward: last !== undefined };
}

/** Checks the connection arguments and plans the page query. */
export function planPage(args: ConnectionArgs, maxPageSize: number): PagePlan {
  const { size, backward } = pageBounds(args, maxPageSize);
  const after = args.after ? decodeCursor(args.after, 'after') : undefined;
  const before = args.before ? decodeCursor(args.before, 'before') : undefined;
  const where: KeysetWhere[] = [];
  if (after) where.push(beyond(after, 'older'));
  if (before) where.push(beyond(before, 'newer'));
  return {
    where,
    orderBy: backward ? [{ createdAt: 'asc' }, { id: 'asc' }] : [{ createdAt: 'desc' }, { id: 'desc' }],
    take: size + 1,
    size,
    backward,
    after,
    before,
  };
}

/** A promise that does its work only if someone awaits it (GraphQL awaits only requested fields). */
export function lazy<T>(run: () => Promise<T>): PromiseLike<T> {
  let promise: Promise<T> | undefined;
  return {
    then(onFulfilled, onRejected) {
      promise ??= run();
      return promise.then(onFulfilled, onRejected);
    },
  };
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    // Declared boolean for the relay plugin's types; may hold a lazy promise, which GraphQL awaits.
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: () => Promise<number>;
}

/**
 * Turns the rows of a planned query into a Relay page. `exists(where)` answers whether any row
 * matching the connection's filter lies beyond a boundary; it runs only when a client asks for
 * the pageInfo flag it decides, so an ordinary page costs one statement.
 */
export function toPage<T extends SortKey>(
  plan: PagePlan,
  rows: T[],
  exists: (where: KeysetWhere) => Promise<boolean>,
  count: () => Promise<number>,
): Page<T> {
  const more = rows.length > plan.size;
  const page = more ? rows.slice(0, plan.size) : rows;
  if (plan.backward) page.reverse();
  const edges = page.map((node) => ({ cursor: encodeCursor(node), node }));
  // Rows on the far side of the cursor we came from exist unless proven otherwise; ask only then.
  const beyondAfter = (plan.after ? lazy(() => exists(beyond(plan.after!, 'newer', true))) : false) as boolean;
  const beyondBefore = (plan.before ? lazy(() => exists(beyond(plan.before!, 'older', true))) : false) as boolean;
  return {
    edges,
    pageInfo: {
      hasNextPage: plan.backward ? beyondBefore : more,
      hasPreviousPage: plan.backward ? more : beyondAfter,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: count,
  };
}
