// Sessions as the vendor routes read them: one by id, or a page of a filtered list, each with its
// identity and devices — one statement straight to the driver (prepared on PostgreSQL), as the
// planned GraphQL reads are — always through the caller's visibility (a session sees its own
// identity's sessions; an id it may not see reads like one that does not exist).
import { settlePendingSession } from '../auth/caller.js';
import { visibleIdentity } from '../auth/guards.js';
import { authenticatesSql, sessionIdentitySelect, shapeSessionWithIdentity } from '../auth/session-rows.js';
import type { Context } from '../context.js';
import { effectiveStatus } from '../domain/session-status.js';
import { noSuchId, resolveId } from '../domain/vendor-ids.js';
import { decodeCursor, encodeCursor } from '../domain/pagination.js';
import type { Credential, Device, Identity, RecoveryAddress, Session, VerifiableAddress } from '../generated/prisma/client.js';
import { sessionWhereSql, type SessionWhereFilter } from './filters.js';

export type SessionRow = Session & {
  identity: Identity & { verifiableAddresses?: VerifiableAddress[]; recoveryAddresses?: RecoveryAddress[] };
  devices: Device[];
};

/** `full`: the identity's addresses and every device (Kratos); `brief`: the identity and the latest device (Clerk, Grid). */
export type Detail = 'full' | 'brief';

export type ListFilter = Pick<SessionWhereFilter, 'identityUuid' | 'clientId' | 'status' | 'active'> & { notId?: string };

const devicesSql = (limit: string) => `(SELECT COALESCE(json_agg(json_build_object('id', d.id, 'sessionId', d.session_id, 'externalId', d.external_id,
  'ipAddress', d.ip_address, 'location', d.location, 'userAgent', d.user_agent, 'firstSeenAt', d.first_seen_at, 'lastSeenAt', d.last_seen_at)
  ORDER BY d.last_seen_at DESC, d.id DESC), '[]')::text
  FROM (SELECT * FROM "public"."devices" d WHERE d.session_id = s.id ORDER BY d.last_seen_at DESC, d.id DESC ${limit}) d) AS "devices"`;
const verifiableSql = `(SELECT COALESCE(json_agg(json_build_object('id', a.id, 'identityId', a.identity_id, 'externalId', a.external_id, 'value', a.value,
  'via', a.via, 'verified', a.verified, 'verifiedAt', a.verified_at, 'status', a.status, 'createdAt', a.created_at, 'updatedAt', a.updated_at) ORDER BY a.id), '[]')::text
  FROM "public"."verifiable_addresses" a WHERE a.identity_id = i.id) AS "verifiableAddresses"`;
const recoverySql = `(SELECT COALESCE(json_agg(json_build_object('id', a.id, 'identityId', a.identity_id, 'externalId', a.external_id, 'value', a.value,
  'via', a.via, 'createdAt', a.created_at, 'updatedAt', a.updated_at) ORDER BY a.id), '[]')::text
  FROM "public"."recovery_addresses" a WHERE a.identity_id = i.id) AS "recoveryAddresses"`;

const detailSelect: Record<Detail, string> = {
  full: `${sessionIdentitySelect}, ${devicesSql('')}, ${verifiableSql}, ${recoverySql}`,
  brief: `${sessionIdentitySelect}, ${devicesSql('LIMIT 1')}`,
};
const from = `FROM "public"."sessions" s JOIN "public"."identities" i ON i.id = s.identity_id`;

type Json = Record<string, unknown>;
const dates = <T>(row: Json, keys: string[]): T => {
  const out = { ...row };
  for (const key of keys) if (out[key] != null) out[key] = new Date(String(out[key]));
  return out as T;
};

function shape(row: Json, detail: Detail): SessionRow {
  const base = shapeSessionWithIdentity(row)!;
  const devices = (JSON.parse(String(row.devices)) as Json[]).map((d) => dates<Device>(d, ['firstSeenAt', 'lastSeenAt']));
  if (detail === 'brief') return { ...base, devices };
  const identity = {
    ...base.identity,
    verifiableAddresses: (JSON.parse(String(row.verifiableAddresses)) as Json[]).map((a) => dates<VerifiableAddress>(a, ['verifiedAt', 'createdAt', 'updatedAt'])),
    recoveryAddresses: (JSON.parse(String(row.recoveryAddresses)) as Json[]).map((a) => dates<RecoveryAddress>(a, ['createdAt', 'updatedAt'])),
  };
  return { ...base, identity, devices };
}

/** Our uuid for a session id in a path (ours, a vendor's, or a bare uuid); noSuchId for one that names nothing. */
export async function sessionIdFromPath(ctx: Context, raw: string): Promise<string> {
  try {
    return await resolveId(ctx.prisma, raw, 'Session');
  } catch {
    return noSuchId;
  }
}

/** Our uuid for an identity id in a path or filter; noSuchId for one that names nothing. */
export async function identityIdFromPath(ctx: Context, raw: string): Promise<string> {
  try {
    return await resolveId(ctx.prisma, raw, 'Identity');
  } catch {
    return noSuchId;
  }
}

/** One session the caller may see, or null. */
export async function visibleSession(ctx: Context, id: string, detail: Detail): Promise<SessionRow | null> {
  const visible = visibleIdentity(ctx);
  const [row] = await ctx.readQuery(`SELECT ${detailSelect[detail]} ${from} WHERE s.id = $1::uuid`, [id]);
  const session = row ? shape(row, detail) : null;
  return session && (visible === null || session.identityId === visible) ? session : null;
}

/**
 * The calling session with its identity and devices, while it is active. A pending session token (deferred by the
 * route) is checked in the same statement — authenticated as authenticate() decides: an active
 * session of an active identity — and settled the usual way, with its 401, when it does not pass.
 */
export async function callerSession(ctx: Context, detail: Detail): Promise<SessionRow | null> {
  const pending = ctx.pendingSession;
  if (pending) {
    const [row] = await ctx.readQuery(
      `SELECT ${detailSelect[detail]}, ${authenticatesSql('$2::timestamptz')} AS "authenticates" ${from} WHERE s.token_hash = $1`,
      [pending.tokenHash, ctx.now()],
    );
    if (row?.authenticates) {
      const session = shape(row, detail);
      ctx.caller = { kind: 'session', sessionId: session.id, identityId: session.identityId };
      ctx.pendingSession = undefined;
      return session;
    }
    await settlePendingSession(ctx);
  }
  if (ctx.caller?.kind !== 'session') return null;
  // A JWT was checked against the revocation set, which hears of an expiry only once the sweep
  // records it: the row read here decides, as the token's own lookup would.
  const session = await visibleSession(ctx, ctx.caller.sessionId, detail);
  return session && session.identity.state === 'ACTIVE' && effectiveStatus(session, ctx.now()) === 'ACTIVE' ? session : null;
}

/** The statement's WHERE for a list the caller may see; parameters are appended to `params`. */
function listWhere(ctx: Context, filter: ListFilter, params: unknown[]): string[] {
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  let nowSql: string | undefined;
  const now = () => (nowSql ??= `${param(ctx.now())}::timestamptz`);
  const visible = visibleIdentity(ctx);
  return [
    ...(visible === null ? [] : [`s.identity_id = ${param(visible)}::uuid`]),
    ...sessionWhereSql(filter, now, param),
    ...(filter.notId ? [`s.id <> ${param(filter.notId)}::uuid`] : []),
  ];
}

const where = (conditions: string[]) => (conditions.length ? `WHERE ${conditions.join(' AND ')}` : '');

/** A page by offset (Clerk's limit / offset), newest first, with the total the filter matches. */
export async function sessionsByOffset(ctx: Context, filter: ListFilter, limit: number, offset: number, detail: Detail): Promise<{ rows: SessionRow[]; total: number }> {
  const params: unknown[] = [];
  const conditions = listWhere(ctx, filter, params);
  const rows = await ctx.readQuery(
    `SELECT ${detailSelect[detail]}, count(*) OVER () AS "total" ${from} ${where(conditions)}
     ORDER BY s.created_at DESC, s.id DESC LIMIT ${limit} OFFSET ${offset}`,
    params,
  );
  let total = rows.length ? Number(rows[0]!.total) : 0;
  // Past the last row the window counts nothing: ask for the total on its own.
  if (rows.length === 0 && offset > 0) total = Number((await ctx.readQuery(`SELECT count(*) AS "total" ${from} ${where(conditions)}`, params))[0]!.total);
  return { rows: rows.map((row) => shape(row, detail)), total };
}

/** A keyset page (Kratos' page_size / page_token), newest first: the rows and the next page's token, if any. */
export async function sessionsByKeyset(ctx: Context, filter: ListFilter, size: number, after: string | undefined, detail: Detail): Promise<{ rows: SessionRow[]; next: string | null }> {
  const params: unknown[] = [];
  const conditions = listWhere(ctx, filter, params);
  if (after) {
    const key = decodeCursor(after, 'after');
    params.push(key.createdAt, key.id);
    const [t, id] = [`$${params.length - 1}::timestamptz`, `$${params.length}::uuid`];
    conditions.push(`s.created_at <= ${t} AND (s.created_at < ${t} OR s.id < ${id})`);
  }
  const rows = (await ctx.readQuery(`SELECT ${detailSelect[detail]} ${from} ${where(conditions)} ORDER BY s.created_at DESC, s.id DESC LIMIT ${size + 1}`, params)).map((row) =>
    shape(row, detail),
  );
  const more = rows.length > size;
  const page = more ? rows.slice(0, size) : rows;
  return { rows: page, next: more ? encodeCursor(page.at(-1)!) : null };
}

/** The unrevoked credentials of an identity the caller may see, oldest first; none for one it may not. */
export async function visibleActiveCredentials(ctx: Context, identityId: string): Promise<(Credential & { identity: Identity })[]> {
  const visible = visibleIdentity(ctx);
  if (visible !== null && visible !== identityId) return [];
  return ctx.prisma.credential.findMany({ where: { identityId, revokedAt: null }, include: { identity: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}
