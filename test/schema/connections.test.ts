import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { memoryStore } from '../../src/rate-limit.js';
import { createApp } from '../../src/server.js';
import { adminAuthorization, createTestApp, testConfig, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';

type Edge = { cursor: string; node: { id: string } };
type Connection = {
  totalCount?: number;
  edges: Edge[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
};

const pageQuery = `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $active: Boolean) {
  identity(id: $id) {
    sessions(first: $first, after: $after, last: $last, before: $before, active: $active) {
      totalCount
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`;

describe.each(databaseTargets)('connections on $name', (target) => {
  let t: TestApp;
  let identityId: string;
  /** Session global ids, newest first. */
  let newestFirst: string[];
  const base = Date.UTC(2026, 5, 1);

  beforeAll(async () => {
    t = await createTestApp(target);
    const identity = await t.db.prisma.identity.create({ data: { traits: { email: 'pager@example.com' } } });
    identityId = `Identity:${identity.id}`;
    // Seven sessions a minute apart, and two sharing one createdAt (the id breaks the tie).
    const created = [];
    for (let i = 0; i < 7; i++) {
      created.push(await t.db.prisma.session.create({ data: { identityId: identity.id, createdAt: new Date(base + i * 60_000) } }));
    }
    created.push(await t.db.prisma.session.create({ data: { identityId: identity.id, createdAt: new Date(base + 3 * 60_000) } }));
    newestFirst = created
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .map((s) => `Session:${s.id}`);
    // Another identity's session must never show up.
    await t.db.prisma.identity.create({ data: { sessions: { create: { createdAt: new Date(base) } } } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function page(variables: Record<string, unknown>): Promise<Connection> {
    const result = await t.graphql<{ identity: { sessions: Connection } }>(pageQuery, { id: identityId, ...variables });
    expect(result.errors).toBeUndefined();
    return result.data!.identity.sessions;
  }

  it('pages forward newest first with a correct pageInfo', async () => {
    const first = await page({ first: 3 });
    expect(first.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(0, 3));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.pageInfo.startCursor).toBe(first.edges[0]!.cursor);
    expect(first.totalCount).toBe(8);

    const second = await page({ first: 3, after: first.pageInfo.endCursor });
    expect(second.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(3, 6));
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });

    const last = await page({ first: 3, after: second.pageInfo.endCursor });
    expect(last.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(6));
    expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const beyond = await page({ first: 3, after: last.pageInfo.endCursor });
    expect(beyond.edges).toEqual([]);
    expect(beyond.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
  });

  it('pages backward from the oldest with a correct pageInfo', async () => {
    const oldest = await page({ last: 3 });
    expect(oldest.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(5));
    expect(oldest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const previous = await page({ last: 3, before: oldest.pageInfo.startCursor });
    expect(previous.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(2, 5));
    expect(previous.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const newest = await page({ last: 3, before: previous.pageInfo.startCursor });
    expect(newest.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(0, 2));
    expect(newest.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  it('neither duplicates nor skips when sessions are inserted and revoked while a client pages', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let round = 0;
    for (;;) {
      const current: Connection = await page({ first: 2, after, active: true });
      seen.push(...current.edges.map((e) => e.node.id));
      if (!current.pageInfo.hasNextPage) break;
      after = current.pageInfo.endCursor;
      if (round++ === 0) {
        // A new sign-in (newest of all) and the revocation of a session already seen.
        await t.db.prisma.session.create({ data: { identityId: identityId.slice('Identity:'.length), createdAt: new Date() } });
        await t.db.prisma.session.update({ where: { id: seen[0]!.slice('Session:'.length) }, data: { status: 'REVOKED' } });
      }
    }
    expect(seen).toEqual(newestFirst);
  });

  it('still takes the base64 cursors it handed out before, planned or resolved', async () => {
    const first = await page({ first: 3 });
    const [, ms, id] = /^v2:(\d+):(.+)$/.exec(first.pageInfo.endCursor!)!;
    const older = Buffer.from(`v1:${ms}:${id}`).toString('base64url');
    const resolving = createApp({ db: t.db, logger: createLogger('error', () => {}), config: testConfig({ PLANNED_READS: 'false' }), rateLimits: memoryStore() });
    for (const app of [t.app, resolving]) {
      const [byOld, byNew] = await Promise.all(
        [older, first.pageInfo.endCursor].map(async (after) => {
          const response = await app.fetch('http://sessiongraph.test/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: adminAuthorization },
            body: JSON.stringify({ query: pageQuery, variables: { id: identityId, first: 3, after } }),
          });
          return (await response.json()) as { data?: { identity: { sessions: Connection } } };
        }),
      );
      expect(byOld).toEqual(byNew);
      const ids = byOld!.data!.identity.sessions.edges.map((e) => e.node.id);
      expect(ids).toHaveLength(3);
      expect(ids.filter((id) => first.edges.some((e) => e.node.id === id))).toEqual([]);
    }
  });

  it('refuses bad paging arguments with BAD_USER_INPUT naming them', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ first: -1 }, /"first" must not be negative/],
      [{ last: -5 }, /"last" must not be negative/],
      [{ first: 101 }, /"first" may be at most 100/],
      [{ first: 2, last: 2 }, /Give "first" or "last", not both/],
      [{ first: 2, after: 'garbage' }, /Invalid cursor "garbage" in "after"/],
      [{ last: 2, before: Buffer.from('v1:12:not-a-uuid').toString('base64url') }, /Invalid cursor .* in "before"/],
      [{ last: 2, before: 'v2:12:not-a-uuid' }, /Invalid cursor .* in "before"/],
      [{ first: 2, after: Buffer.from(`v2:12:${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`).toString('base64url') }, /Invalid cursor .* in "after"/],
    ];
    for (const [variables, message] of cases) {
      const result = await t.graphql(pageQuery, { id: identityId, ...variables });
      expect(result.errors?.[0]?.message).toMatch(message);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe.each(databaseTargets)('sessions and identities filters on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target);
    const hour = 3600_000;
    const now = Date.now();
    await t.db.prisma.identity.create({
      data: {
        state: 'INACTIVE',
        organizationId: 'org_1',
        sessions: {
          create: [
            { nickname: 'active', type: 'PASSKEY', clientId: 'client_a', expiresAt: new Date(now + hour) },
            { nickname: 'expired', type: 'OAUTH', clientId: 'client_a', expiresAt: new Date(now - hour) },
            { nickname: 'abandoned', type: 'OAUTH', clientId: 'client_b', abandonAt: new Date(now - 2 * hour), expiresAt: new Date(now - hour) },
            { nickname: 'revoked', type: 'PASSKEY', clientId: 'client_b', status: 'REVOKED' },
            { nickname: 'pending', type: 'EMAIL_OTP', status: 'PENDING' },
          ],
        },
      },
    });
    await t.db.prisma.identity.create({ data: { organizationId: 'org_2' } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function nicknames(filter: Record<string, unknown>): Promise<string[]> {
    const result = await t.graphql<{ sessions: { edges: { node: { nickname: string; status: string } }[] } }>(
      `query ($filter: SessionFilter) { sessions(filter: $filter) { edges { node { nickname status } } } }`,
      { filter },
    );
    expect(result.errors).toBeUndefined();
    return result.data!.sessions.edges.map((e) => e.node.nickname).sort();
  }

  it('filters by the status a session reads now, not the one stored', async () => {
    expect(await nicknames({ status: ['EXPIRED'] })).toEqual(['expired']);
    expect(await nicknames({ status: ['ABANDONED'] })).toEqual(['abandoned']);
    expect(await nicknames({ status: ['ACTIVE', 'PENDING'] })).toEqual(['active', 'pending']);
    expect(await nicknames({ active: true })).toEqual(['active']);
    expect(await nicknames({ active: false })).toEqual(['abandoned', 'expired', 'pending', 'revoked']);
  });

  it('filters by client, credential type and identity', async () => {
    expect(await nicknames({ clientId: 'client_b' })).toEqual(['abandoned', 'revoked']);
    expect(await nicknames({ type: ['PASSKEY'] })).toEqual(['active', 'revoked']);
    expect(await nicknames({ type: ['OAUTH'], clientId: 'client_a' })).toEqual(['expired']);
    const { data } = await t.graphql<{ identities: { edges: { node: { id: string } }[] } }>(
      `{ identities(filter: { organizationId: "org_1", state: INACTIVE }) { totalCount edges { node { id } } } }`,
    );
    expect(data!.identities.edges).toHaveLength(1);
    expect(await nicknames({ identityId: data!.identities.edges[0]!.node.id })).toHaveLength(5);
    const wrongType = await t.graphql(`{ sessions(filter: { identityId: "Session:0195f000-0000-7000-8000-000000000000" }) { totalCount } }`);
    expect(wrongType.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
