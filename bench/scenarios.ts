// What the benchmark's scenarios send, shared by bench/run.ts (load) and bench/instructions.ts
// (what each planned statement costs PostgreSQL, counted).
import type { Database } from '../src/db/database.js';
import type { Population } from './seed.js';

export const adminToken = 'bench-admin-token-0123456789abcdef';
export const admin = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;

export const securityPage = `{ viewer { identity { id traits sessions(first: 50) { edges { node {
  id status type nickname createdAt expiresAt lastActiveAt aal
  devices { id userAgent ipAddress location lastSeenAt }
  authenticationMethods { method aal completedAt } } } } } } }`;
// The security page in PostGraphile's schema (Amber preset): the same rows, by identity (no auth).
export const peerSecurityPage = `query ($id: UUID!) { identityByRowId(rowId: $id) { rowId traits
  sessionsByIdentityId(first: 50, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) { edges { node {
    rowId status type nickname createdAt expiresAt lastActiveAt aal authenticationMethods
    devicesBySessionId(orderBy: [LAST_SEEN_AT_DESC, ROW_ID_DESC]) { nodes { rowId userAgent ipAddress location lastSeenAt } } } } } } }`;
export const activePage = `query ($after: String) { sessions(first: 50, after: $after, filter: { active: true }) {
  edges { cursor node { id status type clientId createdAt expiresAt identity { id } } } pageInfo { endCursor } } }`;
export const nodesQuery = `query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Identity { traits state } ... on Session { status type } ... on Device { userAgent } } }`;
// nodes(ids:) in PostGraphile's schema: a list by id of each type (connection-filter's `in`), as
// the raw baseline reads them.
export const peerNodesQuery = `query ($i: [UUID!], $s: [UUID!], $d: [UUID!]) {
  allIdentities(filter: { rowId: { in: $i } }) { nodes { rowId traits state } }
  allSessions(filter: { rowId: { in: $s } }) { nodes { rowId status type } }
  allDevices(filter: { rowId: { in: $d } }) { nodes { rowId userAgent } } }`;
export const peerNodeIds = (ids: ReturnType<typeof mixedIds>) => ({ i: ids.identity, s: ids.session, d: ids.device });
export const entitiesQuery = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Identity { id traits } ... on Session { id status } ... on Device { id userAgent } } }`;
export const revokeMutation = `mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId payloadToSign } } }`;
export const confirmMutation = `mutation ($r: String!, $s: String!) { confirmRevocation(input: { requestId: $r, signature: $s }) { session { id status } } }`;

export function mixedIds(population: Population, offset: number) {
  const take = (list: string[], n: number) => Array.from({ length: n }, (_, i) => list[(offset * 7 + i * 13) % list.length]!);
  return { identity: take(population.identityIds, 30), session: take(population.sessionIds, 40), device: take(population.deviceIds, 30) };
}
export const globalIds = (ids: ReturnType<typeof mixedIds>) => [
  ...ids.identity.map((id) => `Identity:${id}`),
  ...ids.session.map((id) => `Session:${id}`),
  ...ids.device.map((id) => `Device:${id}`),
];

/** A row deep into the active sessions (the 60th percentile of the list): scenario 2 pages from its cursor. */
export async function deepActiveSession(db: Database, population: Population): Promise<{ createdAt: Date; id: string }> {
  const [deep] = await db.prisma.session.findMany({
    where: { status: 'ACTIVE', OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    skip: Math.floor(population.sessions * 0.4),
    take: 1,
    select: { createdAt: true, id: true },
  });
  if (!deep) throw new Error('the seeded population has no active session to page from');
  return deep;
}
