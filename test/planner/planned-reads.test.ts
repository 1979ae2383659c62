// The planned path (one SQL statement per operation) must answer exactly what the resolvers answer.
// Random operations over Session / Identity / Device selections, filters, page sizes and cursors run
// through two apps on one database — one planning, one resolving field by field — as an admin and
// as a session caller, and must agree to the byte of parsed JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { getVariableValues, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDocument } from '../../src/import/index.js';
import { createLogger } from '../../src/logger.js';
import { memoryStore } from '../../src/rate-limit.js';
import { coerceVariables, plannableOperation, plannedReadMark } from '../../src/planner/reads.js';
import { createApp, type App } from '../../src/server.js';
import { adminAuthorization, createTestApp, testConfig, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { projectRoot } from '../support/process.js';
import { createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(projectRoot, 'test/fixtures', name), 'utf8'));

const sessionLeaves = ['id', 'status', 'active', 'type', 'nickname', 'aal', 'clientId', 'actor', 'externalSource', 'externalId', 'lastActiveAt', 'issuedAt',
  'authenticatedAt', 'createdAt', 'updatedAt', 'expiresAt', 'abandonAt', 'revokedAt', 'revokedBySessionId', 'revocationReason', 'signingPublicKey', 'tokenized',
  'lastActiveOrganizationId', '__typename'];
const identityLeaves = ['id', 'traits', 'state', 'stateChangedAt', 'metadataPublic', 'metadataAdmin', 'organizationId', 'schemaId', 'externalId', 'createdAt', '__typename'];
const deviceLeaves = ['id', 'userAgent', 'ipAddress', 'location', 'firstSeenAt', 'lastSeenAt', 'externalId', '__typename'];
const methodLeaves = ['method', 'aal', 'completedAt', 'provider', 'organization'];
const statuses = ['ACTIVE', 'REVOKED', 'ENDED', 'EXPIRED', 'REMOVED', 'ABANDONED', 'REPLACED', 'PENDING'];

const pick = (list: string[]) => fc.subarray(list, { minLength: 1 }).map((fields) => fields.join(' '));

// Selections, a few levels deep (the depth limit keeps them finite).
const deviceSelection = (depth: number): fc.Arbitrary<string> =>
  fc.tuple(pick(deviceLeaves), depth > 0 ? fc.option(sessionSelection(depth - 1), { nil: undefined }) : fc.constant(undefined))
    .map(([leaves, session]) => `${leaves}${session ? ` session { ${session} }` : ''}`);
const sessionSelection = (depth: number): fc.Arbitrary<string> =>
  fc.tuple(
    pick(sessionLeaves),
    depth > 0 ? fc.option(deviceSelection(depth - 1), { nil: undefined }) : fc.constant(undefined),
    fc.option(pick(methodLeaves), { nil: undefined }),
    depth > 0 ? fc.option(pick(identityLeaves), { nil: undefined }) : fc.constant(undefined),
  ).map(([leaves, devices, methods, identity]) =>
    `${leaves}${devices ? ` devices { ${devices} }` : ''}${methods ? ` authenticationMethods { ${methods} }` : ''}${identity ? ` identity { ${identity} }` : ''}`);

const pageArgs = fc.record({
  size: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
  backward: fc.boolean(),
  afterIndex: fc.option(fc.nat(40), { nil: undefined }),
  beforeIndex: fc.option(fc.nat(40), { nil: undefined }),
});

const connectionSelection = (node: fc.Arbitrary<string>) =>
  fc.tuple(node, fc.boolean(), fc.subarray(['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor', '__typename'], { minLength: 1 }), fc.boolean())
    .map(([nodeFields, count, info, cursor]) => `${count ? 'totalCount ' : ''}edges { ${cursor ? 'cursor ' : ''}node { ${nodeFields} } } pageInfo { ${info.join(' ')} }`);

describe.each(databaseTargets)('planned reads on $name', (target) => {
  let t: TestApp;
  let resolving: App;
  let owner: BrowserSession;
  let ownerIdentity: string;
  let cursors: string[];
  // Both apps read one clock, moved past some expiries once the data is written.
  let clock = new Date();
  beforeAll(async () => {
    t = await createTestApp(target, { now: () => clock });
    const logger = createLogger('error', () => {});
    resolving = createApp({ db: t.db, logger, config: testConfig({ PLANNED_READS: 'false' }), rateLimits: memoryStore(), now: () => clock });
    for (const [vendor, file] of [['KRATOS', 'kratos-sessions.json'], ['CLERK', 'clerk-sessions.json'], ['GRID', 'grid-seed.json']] as const) {
      await importDocument(t.db, vendor, fixture(file));
    }
    const identityId = await createIdentity(t, { email: 'many@example.com' });
    ownerIdentity = identityId;
    owner = await createBrowserSession(t, identityId, { clientId: 'client_a', devices: [{ userAgent: 'A', ipAddress: '192.0.2.1' }, { userAgent: 'B' }] });
    const soon = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
    for (let i = 0; i < 12; i++) {
      await createBrowserSession(t, identityId, {
        nickname: `s${i}`,
        clientId: i % 2 ? 'client_a' : 'client_b',
        expiresAt: i % 3 === 0 ? soon(10) : soon(600), // a third expire before the frozen clock
        abandonAt: i % 4 === 0 ? soon(5) : undefined,
        authenticationMethods: [{ method: 'PASSWORD', aal: 'AAL1' }, { method: 'TOTP', aal: 'AAL2', provider: 'app' }],
        devices: i % 2 ? [{ userAgent: `UA ${i}`, location: 'Berlin' }] : [],
      });
    }
    await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id, reason: "test" }) { session { id } } }', {
      id: (await t.graphql<{ sessions: { edges: { node: { id: string } }[] } }>('{ sessions(first: 3, filter: { clientId: "client_b" }) { edges { node { id } } } }')).data!.sessions.edges[2]!.node.id,
    });
    clock = new Date(Date.now() + 30 * 60_000);
    const all = await t.graphql<{ sessions: { edges: { cursor: string }[] } }>('{ sessions(first: 100) { edges { cursor } } }');
    cursors = all.data!.sessions.edges.map((edge) => edge.cursor);
  });
  afterAll(async () => {
    // Every operation above either ran planned or was left to the resolvers on purpose: none fell back after failing.
    expect(t.logs.filter((line) => line.msg === 'a planned read failed; resolving it field by field instead').map((line) => line.error)).toEqual([]);
    await t.dispose();
  });

  async function both(query: string, variables: Record<string, unknown>, authorization: string) {
    const ask = async (app: App) => {
      const response = await app.fetch('http://sessiongraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    t.queries.length = 0;
    const planned = await ask(t.app);
    const plannedStatements = t.queries.filter((sql) => sql.startsWith(plannedReadMark)).length;
    return { planned, resolved: await ask(resolving), plannedStatements };
  }

  /** Global ids of 40 sessions, their identities and devices (as the admin lists them). */
  async function knownIds(): Promise<string[]> {
    const listed = await t.graphql<{ sessions: { edges: { node: { id: string; identity: { id: string }; devices: { id: string }[] } }[] } }>(
      '{ sessions(first: 40) { edges { node { id identity { id } devices { id } } } } }',
    );
    return listed.data!.sessions.edges.flatMap((edge) => [edge.node.id, edge.node.identity.id, ...edge.node.devices.map((device) => device.id)]);
  }

  function connectionArgs(args: { size?: number; backward: boolean; afterIndex?: number; beforeIndex?: number }) {
    const parts: string[] = [];
    if (args.size !== undefined) parts.push(`${args.backward ? 'last' : 'first'}: ${args.size}`);
    if (args.afterIndex !== undefined) parts.push(`after: "${cursors[args.afterIndex % cursors.length]}"`);
    if (args.beforeIndex !== undefined) parts.push(`before: "${cursors[args.beforeIndex % cursors.length]}"`);
    return parts;
  }

  it('answers random session pages exactly as the resolvers do, for an admin and for a session', async () => {
    let planned = 0;
    await fc.assert(
      fc.asyncProperty(
        connectionSelection(sessionSelection(2)),
        pageArgs,
        fc.record({
          status: fc.option(fc.subarray(statuses), { nil: undefined }),
          active: fc.option(fc.boolean(), { nil: undefined }),
          clientId: fc.option(fc.constantFrom('client_a', 'client_b'), { nil: undefined }),
          type: fc.option(fc.subarray(['PASSKEY', 'PASSWORD', 'OAUTH']), { nil: undefined }),
        }),
        fc.boolean(),
        async (selection, page, filter, asSession) => {
          const filters = Object.entries(filter).filter(([, value]) => value !== undefined).map(([key, value]) => `${key}: ${Array.isArray(value) ? `[${value.join(', ')}]` : typeof value === 'string' ? `"${value}"` : value}`);
          const args = [...connectionArgs(page), ...(filters.length ? [`filter: { ${filters.join(', ')} }`] : [])];
          const query = `{ sessions${args.length ? `(${args.join(', ')})` : ''} { ${selection} } }`;
          const { planned: a, resolved: b, plannedStatements } = await both(query, {}, asSession ? owner.authorization : adminAuthorization);
          expect(a, query).toEqual(b);
          planned += plannedStatements;
        },
      ),
      { numRuns: 80 },
    );
    expect(planned).toBeGreaterThan(30);
  });

  it('answers random security pages exactly as the resolvers do', async () => {
    await fc.assert(
      fc.asyncProperty(pick(identityLeaves), connectionSelection(sessionSelection(1)), pageArgs, fc.option(fc.subarray(statuses), { nil: undefined }), async (identity, sessions, page, status) => {
        const args = [...connectionArgs(page), ...(status ? [`status: [${status.join(', ')}]`] : [])];
        const query = `query Page { viewer { __typename session { id status } identity { ${identity} sessions${args.length ? `(${args.join(', ')})` : ''} { ${sessions} } } } }`;
        const { planned: a, resolved: b, plannedStatements } = await both(query, {}, owner.authorization);
        expect(a, query).toEqual(b);
        const refused = (b.body as { errors?: unknown }).errors !== undefined;
        expect(plannedStatements, query).toBe(refused ? 0 : 1);
      }),
      { numRuns: 50 },
    );
  });

  it('answers random nodes(ids:) lists exactly as the resolvers do, hidden and missing ids alike', async () => {
    const pool = [
      ...(await knownIds()),
      'Session:00000000-0000-7000-8000-000000000000',
      'Device:00000000-0000-7000-8000-000000000000',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...pool), { minLength: 0, maxLength: 30 }),
        fc.option(pick(identityLeaves), { nil: undefined }),
        fc.option(sessionSelection(1), { nil: undefined }),
        fc.option(deviceSelection(1), { nil: undefined }),
        fc.boolean(),
        async (ids, identity, session, device, asSession) => {
          const fragments = [identity && `... on Identity { ${identity} }`, session && `... on Session { ${session} }`, device && `... on Device { ${device} }`].filter(Boolean);
          const query = `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id ${fragments.join(' ')} } one: node(id: "${ids[0] ?? pool[0]}") { id } }`;
          const { planned: a, resolved: b, plannedStatements } = await both(query, { ids }, asSession ? owner.authorization : adminAuthorization);
          expect(a, query).toEqual(b);
          expect(plannedStatements, query).toBe(1);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('answers random _entities lists exactly as the resolvers do', async () => {
    const pool = [...(await knownIds()), 'Identity:00000000-0000-7000-8000-000000000000'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 30 }),
        pick(identityLeaves),
        sessionSelection(1),
        pick(deviceLeaves),
        fc.boolean(),
        async (ids, identity, session, device, asSession) => {
          const representations = ids.map((id) => ({ __typename: id.slice(0, id.indexOf(':')), id }));
          const query = `query ($representations: [_Any!]!) { _entities(representations: $representations) { __typename
            ... on Identity { ${identity} } ... on Session { ${session} } ... on Device { ${device} } } }`;
          const { planned: a, resolved: b, plannedStatements } = await both(query, { representations }, asSession ? owner.authorization : adminAuthorization);
          expect(a, query).toEqual(b);
          expect(plannedStatements, query).toBe(1);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('leaves stored steps the resolvers refuse to them, and says so in the log', async () => {
    // Written by another tool: a step that is not an object. The statement fails on it; the
    // resolvers answer (with their error), and the log names the fallback.
    const id = owner.id.slice('Session:'.length);
    const before = await t.db.prisma.session.findUniqueOrThrow({ where: { id }, select: { authenticationMethods: true } });
    await t.db.prisma.session.update({ where: { id }, data: { authenticationMethods: ['not a step'] } });
    try {
      const query = '{ viewer { session { id authenticationMethods { method } } } }';
      const { planned, resolved, plannedStatements } = await both(query, {}, owner.authorization);
      expect(planned).toEqual(resolved);
      expect((resolved.body as { errors?: unknown[] }).errors?.length).toBe(1);
      expect(plannedStatements).toBe(1);
      const fallbacks = t.logs.filter((line) => line.msg === 'a planned read failed; resolving it field by field instead');
      expect(fallbacks).toHaveLength(1);
      t.logs.splice(t.logs.indexOf(fallbacks[0]!), 1); // expected here, not a failure afterAll should report
    } finally {
      await t.db.prisma.session.update({ where: { id }, data: { authenticationMethods: before.authenticationMethods ?? [] } });
    }
  });

  it('answers single objects, fragments and variables the same, and leaves the rest to the resolvers', async () => {
    const { data } = await t.graphql<{ sessions: { edges: { node: { id: string; identity: { id: string } } }[] } }>('{ sessions(first: 40) { edges { node { id identity { id } } } } }');
    const someone = data!.sessions.edges.find((edge) => edge.node.identity.id !== owner.id)!.node;
    const queries: [string, Record<string, unknown>][] = [
      ['query ($id: ID!) { session(id: $id) { ...S } } fragment S on Session { id status devices { id } }', { id: someone.id }],
      ['query ($id: ID!) { identity(id: $id) { id ... on Identity { traits } sessions(first: 2) { totalCount } } }', { id: someone.identity.id }],
      ['query ($first: Int, $after: String) { sessions(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasPreviousPage } } }', { first: 3, after: cursors[4] }],
      ['{ sessions(first: 1000) { totalCount } }', {}],
      ['{ sessions(after: "not a cursor") { totalCount } }', {}],
      ['{ session(id: "Session:not-a-uuid") { id } }', {}],
      ['{ viewer { apiClient { tokenId } } }', {}],
      ['{ sessions(first: 2) { edges { node { id events { totalCount } } } } }', {}],
    ];
    for (const authorization of [adminAuthorization, owner.authorization]) {
      for (const [query, variables] of queries) {
        const { planned, resolved } = await both(query, variables, authorization);
        expect(planned, query).toEqual(resolved);
      }
    }
  });

  it('plans with variables as execution coerces them, and never writes a refused one into SQL', async () => {
    const ids = await knownIds();
    const refused: [string, Record<string, unknown>][] = [
      ['query ($f: Int) { sessions(first: $f) { totalCount } }', { f: '1) page_rows) page GROUP BY ()) || (SELECT string_agg(secret_hash, chr(44)) FROM api_clients' }],
      ['query ($f: Int) { sessions(first: $f) { totalCount } }', { f: '3' }],
      ['query ($s: [SessionStatus!]) { sessions(first: 2, filter: { status: $s }) { totalCount } }', { s: ["ACTIVE') OR ('1'='1"] }],
      ['query ($a: Boolean) { sessions(first: 2, filter: { active: $a }) { totalCount } }', { a: 'false' }],
    ];
    for (const authorization of [adminAuthorization, owner.authorization]) {
      for (const [query, variables] of refused) {
        const { planned, resolved, plannedStatements } = await both(query, variables, authorization);
        expect(planned, JSON.stringify(variables)).toEqual(resolved);
        expect((planned.body as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(plannedStatements).toBe(0);
      }
    }
    // Coerced, not refused: one id where a list is declared is a list of one, and is planned.
    const single = await both('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: ids[0] }, adminAuthorization);
    expect(single.planned).toEqual(single.resolved);
    expect(single.planned.body).toEqual({ data: { nodes: [{ id: ids[0] }] } });
    expect(single.plannedStatements).toBe(1);
  });

  it('answers what needs no row without a statement, for every caller', async () => {
    const queries = ['{ __typename }', '{ q: __typename viewer { __typename identity { id } session { id } } }'];
    for (const query of queries) {
      const { planned, resolved, plannedStatements } = await both(query, {}, adminAuthorization);
      expect(planned, query).toEqual(resolved);
      expect(plannedStatements).toBe(0);
      expect(t.queries).toEqual([]);
    }
    expect((await both('{ __typename }', {}, adminAuthorization)).planned.body).toEqual({ data: { __typename: 'Query' } });
    // A session's viewer reads its rows: one statement, which also checks the session's token.
    const { planned, resolved, plannedStatements } = await both(queries[1]!, {}, owner.authorization);
    expect(planned).toEqual(resolved);
    expect(plannedStatements).toBe(1);
  });

  it.each([
    ['the security page of a session, with totalCount, and its token check', '{ viewer { identity { id traits sessions(first: 50) { totalCount edges { node { id status devices { id userAgent } authenticationMethods { method } } } } } } }', 'session'],
    ['an identity with a page of its sessions', `{ identity(id: "$IDENTITY") { traits sessions(first: 20) { edges { node { id devices { id } } } } } }`, 'admin'],
    ['a page with totalCount and both pageInfo flags', `{ sessions(first: 10, after: "$CURSOR") { totalCount pageInfo { hasPreviousPage hasNextPage } edges { node { id identity { id } } } } }`, 'admin'],
    ['100 mixed representations', `{ _entities(representations: $REPS) { ... on Identity { traits } ... on Session { status } ... on Device { userAgent } } }`, 'admin'],
  ])('costs %s one statement', async (_name, template, caller) => {
    const ids = await knownIds();
    const representations = Array.from({ length: 100 }, (_, i) => ids[i % ids.length]!).map((id) => `{ __typename: "${id.split(':')[0]}", id: "${id}" }`);
    const query = template.replace('$IDENTITY', ownerIdentity).replace('$CURSOR', cursors[3]!).replace('$REPS', `[${representations.join(', ')}]`);
    t.queries.length = 0;
    const response = await t.app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: caller === 'session' ? owner.authorization : adminAuthorization },
      body: JSON.stringify({ query }),
    });
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    expect(t.queries, t.queries.join('\n')).toHaveLength(1);
  });
});

describe('planned reads coerce variables as graphql-js does', () => {
  // The variables of built-in scalar types skip graphql-js's walk when already coerced: random
  // values of every JavaScript kind must come out exactly as getVariableValues makes them.
  it('for ID, String, Int and Boolean, alone and in lists, nullable or not', async () => {
    const { schema } = await import('../../src/schema/index.js');
    const operation = plannableOperation(schema, parse(`query ($id: ID!, $ids: [ID!]!, $maybe: [ID], $after: String, $first: Int, $active: Boolean) {
      nodes(ids: $ids) { id } node(id: $id) { id } m: nodes(ids: $maybe) { id }
      sessions(first: $first, after: $after, filter: { active: $active }) { totalCount } }`))!;
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(2 ** 31), fc.constant(-(2 ** 31)), fc.constant(2.0));
    const anything = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }), fc.dictionary(fc.string(), scalar, { maxKeys: 2 }));
    // Mostly values of the declared type (so the short way is taken), sometimes anything at all.
    const typed = (good: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: anything });
    const id = fc.oneof(fc.uuid().map((u) => `Session:${u}`), fc.string());
    const variables = fc.record(
      {
        id: typed(id),
        ids: typed(fc.array(id, { maxLength: 5 })),
        maybe: typed(fc.option(fc.array(fc.option(id), { maxLength: 3 }))),
        after: typed(fc.option(fc.string())),
        first: typed(fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }))),
        active: typed(fc.option(fc.boolean())),
        other: anything,
      },
      { requiredKeys: ['id', 'ids'] },
    );
    let coercedWhole = 0;
    fc.assert(
      fc.property(variables, (raw) => {
        const expected = getVariableValues(schema, operation.variables, raw, { maxErrors: 1 });
        if (!expected.errors) coercedWhole++;
        expect(coerceVariables(operation, raw)).toEqual(expected.errors ? undefined : expected.coerced);
      }),
      { numRuns: 3000 },
    );
    expect(coercedWhole).toBeGreaterThan(300);
  });
});
