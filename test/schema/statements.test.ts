// SQL statements per request, counted from Prisma's query log (as plugin-prisma's own tests do):
// the page size must never change how many statements a query costs. These count the resolvers'
// path (PLANNED_READS=false); test/planner/planned-reads.test.ts counts the planned one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/auth/secrets.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';

describe.each(databaseTargets)('statements per request on $name', (target) => {
  let t: TestApp;
  const ids: Record<'Identity' | 'Session' | 'Device', string[]> = { Identity: [], Session: [], Device: [] };

  beforeAll(async () => {
    t = await createTestApp(target, { env: { PLANNED_READS: 'false' } });
    for (let i = 0; i < 3; i++) {
      const identity = await t.db.prisma.identity.create({ data: { traits: { i } } });
      ids.Identity.push(`Identity:${identity.id}`);
      for (let j = 0; j < 20; j++) {
        const session = await t.db.prisma.session.create({
          data: {
            identityId: identity.id,
            createdAt: new Date(Date.UTC(2026, 0, 1) + (i * 20 + j) * 1000),
            authenticationMethods: [{ method: 'PASSWORD', aal: 'AAL1', completedAt: '2026-01-01T00:00:00.000Z' }],
            devices: { create: [{ userAgent: `agent ${j}` }, { userAgent: `other ${j}` }] },
          },
          include: { devices: true },
        });
        ids.Session.push(`Session:${session.id}`);
        ids.Device.push(...session.devices.map((d) => `Device:${d.id}`));
      }
    }
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function statements(query: string, variables?: Record<string, unknown>) {
    t.queries.length = 0;
    const result = await t.graphql(query, variables);
    expect(result.errors).toBeUndefined();
    return { result, sql: [...t.queries] };
  }

  it.each([5, 50])('a page of %i sessions with identity, devices and authentication methods costs one statement', async (first) => {
    const { result, sql } = await statements(
      `query ($first: Int) { sessions(first: $first) { edges { node {
        id status identity { id traits } devices { id userAgent } authenticationMethods { method aal completedAt }
      } } } }`,
      { first },
    );
    const edges = (result.data as { sessions: { edges: { node: { devices: unknown[]; authenticationMethods: unknown[] } }[] } }).sessions.edges;
    expect(edges).toHaveLength(first);
    expect(edges.every((e) => e.node.devices.length === 2 && e.node.authenticationMethods.length === 1)).toBe(true);
    // Relations are joined into the page query (Prisma relationJoins), not fetched one by one.
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatch(/FROM "public"."sessions"/);
    expect(sql[0]).toMatch(/"public"."identities"/);
    expect(sql[0]).toMatch(/"public"."devices"/);
  });

  it('an identity\'s page of sessions costs one statement more than the identity', async () => {
    const { sql } = await statements(
      `query ($id: ID!) { identity(id: $id) { traits sessions(first: 20) { edges { node { id devices { id } } } } } }`,
      { id: ids.Identity[0] },
    );
    expect(sql).toHaveLength(2);
  });

  it('nodes(ids:) with 100 mixed ids costs one statement per type', async () => {
    const wanted = [...ids.Identity, ...ids.Session.slice(0, 57), ...ids.Device.slice(0, 40)];
    expect(wanted).toHaveLength(100);
    const { result, sql } = await statements(`query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, { ids: wanted });
    const nodes = (result.data as { nodes: { id: string }[] }).nodes;
    expect(nodes.map((n) => n.id)).toEqual(wanted);
    expect(sql).toHaveLength(3);
  });

  it('totalCount and the far pageInfo flag cost a statement each, and only when asked for', async () => {
    const first = await statements(`{ sessions(first: 10) { pageInfo { endCursor } } }`);
    expect(first.sql).toHaveLength(1);
    const after = (first.result.data as { sessions: { pageInfo: { endCursor: string } } }).sessions.pageInfo.endCursor;
    const withFlags = await statements(
      `query ($after: String) { sessions(first: 10, after: $after) { totalCount pageInfo { hasPreviousPage hasNextPage } } }`,
      { after },
    );
    expect(withFlags.result.data).toEqual({ sessions: { totalCount: 60, pageInfo: { hasPreviousPage: true, hasNextPage: true } } });
    expect(withFlags.sql).toHaveLength(3);
  });

  it('the security page of a session caller costs at most 3, with totalCount', async () => {
    const identityId = ids.Identity[1]!.slice('Identity:'.length);
    const token = 'sgs_statements-test-token';
    await t.db.prisma.session.create({ data: { identityId, tokenHash: Uint8Array.from(sha256(token)) } });
    t.queries.length = 0;
    const result = await t.graphql(
      `{ viewer { identity { id traits sessions(first: 50) { totalCount edges { node {
        id status devices { userAgent } authenticationMethods { method } } } } } } }`,
      {},
      { authorization: `Bearer ${token}` },
    );
    expect(result.errors).toBeUndefined();
    expect((result.data as { viewer: { identity: { sessions: { totalCount: number } } } }).viewer.identity.sessions.totalCount).toBe(21);
    // The token lookup (with the identity joined in), the page with its devices, the count.
    expect(t.queries, t.queries.join('\n\n')).toHaveLength(3);
  });
});
