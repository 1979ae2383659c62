// sessiongraph as a Federation v2 subgraph: entities by global id, one statement per type, the same
// visibility as node(id:), composition with another subgraph and a query across both through an
// in-process gateway (no ports, no network).
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime, useCustomFetch } from '@graphql-hive/gateway-runtime';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printedSubgraph } from '../../src/schema/print.js';
import { adminAuthorization, createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';

// A second subgraph, as another team would write it: it extends Identity with a field of its own.
const walletsTypeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
  type Identity @key(fields: "id") {
    id: ID!
    walletBalance: Int!
  }
  type Query {
    richest: Identity
  }
`;

describe.each(databaseTargets)('federation subgraph on $name', (target) => {
  let t: TestApp;
  let owner: string;
  let other: string;
  let me: BrowserSession;
  const reps: { __typename: string; id: string }[] = [];

  beforeAll(async () => {
    // The resolvers' path (one statement per type); planned-reads.test.ts covers the planned one.
    t = await createTestApp(target, { env: { PLANNED_READS: 'false' } });
    owner = await createIdentity(t, { email: 'fed@example.com' });
    other = await createIdentity(t, { email: 'other@example.com' });
    me = await createBrowserSession(t, owner, { devices: [{ userAgent: 'mine' }] });
    for (let i = 0; i < 30; i++) {
      const identity = await t.db.prisma.identity.create({
        data: { traits: { i }, sessions: { create: { devices: { create: [{ userAgent: `ua ${i}` }] } } } },
        include: { sessions: { include: { devices: true } } },
      });
      reps.push({ __typename: 'Identity', id: `Identity:${identity.id}` });
      reps.push({ __typename: 'Session', id: `Session:${identity.sessions[0]!.id}` });
      reps.push({ __typename: 'Device', id: `Device:${identity.sessions[0]!.devices[0]!.id}` });
    }
    reps.push(...reps.slice(0, 10)); // repeats are fine, and cost nothing extra
  });
  afterAll(async () => {
    await t.dispose();
  });

  const entitiesQuery = `query ($reps: [_Any!]!) { _entities(representations: $reps) {
    __typename ... on Identity { id } ... on Session { id } ... on Device { id } } }`;

  it('serves its SDL at _service, on federation v2.6', async () => {
    const result = await t.graphql<{ _service: { sdl: string } }>('{ _service { sdl } }');
    expect(result.data!._service.sdl.trim()).toBe(printedSubgraph().trim());
    expect(result.data!._service.sdl).toMatch(/type Session implements Node\s+@key\(fields: "id"\)/);
    expect(result.data!._service.sdl).toMatch(/type PageInfo\s+@shareable/);
  });

  it('resolves 100 mixed representations with one statement per type', async () => {
    expect(reps).toHaveLength(100);
    t.queries.length = 0;
    const result = await t.graphql<{ _entities: { __typename: string; id: string }[] }>(entitiesQuery, { reps });
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities).toEqual(reps);
    expect(t.queries).toHaveLength(3);
    // Scalar fields come from the loaded rows: asking for them costs nothing more.
    t.queries.length = 0;
    const withFields = await t.graphql(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Identity { traits state metadataAdmin }
        ... on Session { status active authenticationMethods { method } signingPublicKey } ... on Device { userAgent } } }`,
      { reps },
    );
    expect(withFields.errors).toBeUndefined();
    expect(t.queries).toHaveLength(3);
  });

  it('answers representations the caller may not see with null, like node(id:)', async () => {
    const theirs = await createBrowserSession(t, other);
    const result = await t.graphql<{ _entities: unknown[] }>(
      entitiesQuery,
      { reps: [{ __typename: 'Identity', id: owner }, { __typename: 'Identity', id: other }, { __typename: 'Session', id: theirs.id }, { __typename: 'Session', id: me.id }] },
      { authorization: me.authorization },
    );
    expect(result.data!._entities).toEqual([{ __typename: 'Identity', id: owner }, null, null, { __typename: 'Session', id: me.id }]);
  });

  it('adds Apollo federated tracing (ftv1) when the gateway asks for it', async () => {
    const response = await t.app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: adminAuthorization, 'apollo-federation-include-trace': 'ftv1' },
      body: JSON.stringify({ query: entitiesQuery, variables: { reps: reps.slice(0, 2) } }),
    });
    const body = await response.json();
    expect(typeof body.extensions?.ftv1).toBe('string');
    expect(Buffer.from(body.extensions.ftv1, 'base64').length).toBeGreaterThan(10);
    expect((await t.graphql(entitiesQuery, { reps: reps.slice(0, 2) })).extensions).toBeUndefined();
  });

  it('composes with another Relay subgraph that defines Node and PageInfo too', async () => {
    const otherRelay = /* GraphQL */ `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@shareable"])
      interface Node { id: ID! }
      type PageInfo @shareable {
        hasNextPage: Boolean!
        hasPreviousPage: Boolean!
        startCursor: String
        endCursor: String
      }
      type Wallet implements Node @key(fields: "id") { id: ID! }
      type WalletConnection { pageInfo: PageInfo! }
      type Query { wallets: WalletConnection }
    `;
    const composed = composeServices([
      { name: 'sessions', typeDefs: parse(printedSubgraph()), url: 'http://sessions.internal/graphql' },
      { name: 'wallets', typeDefs: parse(otherRelay), url: 'http://wallets.internal/graphql' },
    ]);
    expect(composed.errors ?? []).toEqual([]);
  });

  it('composes with a subgraph that extends Identity, and answers a query across both through a gateway', async () => {
    // The wallets subgraph, built the federation way so the gateway can ask it for entities.
    const walletsSchema = buildSubgraphSchema({
      typeDefs: parse(walletsTypeDefs),
      resolvers: {
        Query: { richest: () => ({ id: owner }) },
        Identity: {
          __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
          walletBalance: (identity: { id: string }) => (identity.id === owner ? 4200 : 0),
        },
      } as never,
    });
    const walletsYoga = createYoga({ schema: walletsSchema });

    const composed = composeServices([
      { name: 'sessions', typeDefs: parse(printedSubgraph()), url: 'http://sessions.internal/graphql' },
      { name: 'wallets', typeDefs: parse(walletsTypeDefs), url: 'http://wallets.internal/graphql' },
    ]);
    expect(composed.errors ?? []).toEqual([]);

    const gateway = createGatewayRuntime({
      supergraph: composed.supergraphSdl!,
      maskedErrors: false, // a failing assertion should show the subgraph's error, not "Unexpected error."
      propagateHeaders: { fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') }) },
      plugins: () => [
        useCustomFetch((url, init) =>
          url.startsWith('http://sessions.internal') ? t.app.fetch(url, init as RequestInit) : walletsYoga.fetch(url, init as RequestInit),
        ),
      ],
    });
    try {
      const response = await gateway.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: me.authorization },
        body: JSON.stringify({
          query: `{ viewer { identity { id traits walletBalance sessions(first: 5) { totalCount edges { node { id devices { userAgent } } } } } }
                    richest { id walletBalance traits } }`,
        }),
      });
      const body = await response.json();
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      expect(body.data).toEqual({
        viewer: {
          identity: {
            id: owner,
            traits: { email: 'fed@example.com' },
            walletBalance: 4200,
            sessions: { totalCount: 1, edges: [{ node: { id: me.id, devices: [{ userAgent: 'mine' }] } }] },
          },
        },
        richest: { id: owner, walletBalance: 4200, traits: { email: 'fed@example.com' } },
      });
    } finally {
      await gateway.dispose();
    }
  });
});
