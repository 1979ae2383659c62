import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleQuery } from '../../src/server.js';
import { adminAuthorization, createTestApp, type TestApp } from '../support/app.js';
import { pgliteTarget } from '../support/databases.js';
import { projectRoot } from '../support/process.js';
import { createBrowserSession, createIdentity, requestRevocation, type BrowserSession } from '../support/sessions.js';

/** The security page a frontend builds: the query the limits must always let through. */
const securityPage = `{ viewer { identity { id traits sessions(first: 50) { totalCount edges { cursor node {
  id status active type nickname lastActiveAt expiresAt aal
  devices { id userAgent ipAddress location lastSeenAt }
  authenticationMethods { method aal completedAt provider } } } pageInfo { hasNextPage endCursor } } } } }`;

function documentedQueries(): string[] {
  const files = ['README.md', 'docs/field-mapping.md'];
  return files.flatMap((file) =>
    [...readFileSync(join(projectRoot, file), 'utf8').matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!),
  );
}

async function post(t: TestApp, body: unknown, headers: Record<string, string> = {}) {
  const response = await t.app.fetch('http://sessiongraph.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: adminAuthorization, ...headers },
    // A string goes as it is (bodies that are not JSON); anything else as JSON.
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
}

describe('query limits', () => {
  let t: TestApp;
  let me: BrowserSession;
  let identityId: string;
  beforeAll(async () => {
    t = await createTestApp(pgliteTarget);
    identityId = await createIdentity(t);
    me = await createBrowserSession(t, identityId, { devices: [{ userAgent: 'x' }] });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('let through every documented query, GraphiQL\'s example and introspection, and the security page', async () => {
    const queries = [...documentedQueries(), exampleQuery, getIntrospectionQuery()];
    expect(queries.length).toBeGreaterThan(2);
    for (const query of queries) {
      // The README's placeholder for an identity's id, filled as test/readme.test.ts fills it.
      const result = await t.graphql(query.replaceAll('"Identity:…"', JSON.stringify(identityId)));
      expect(result.errors, query.slice(0, 80)).toBeUndefined();
    }
    const page = await t.graphql(securityPage, {}, { authorization: me.authorization });
    expect(page.errors).toBeUndefined();
  });

  it.each([
    ['depth', `{ viewer { identity { sessions { edges { node { identity { sessions { edges { node { identity { sessions { edges { node { id } } } } } } } } } } } } } }`, /depth/i],
    ['aliases', `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: viewer { apiClient { tokenId } }`).join(' ')} }`, /aliases/i],
    ['tokens', `{ ${Array.from({ length: 2100 }, () => '__typename').join(' ')} }`, /token/i],
    ['directives', `{ __typename ${Array.from({ length: 12 }, () => '@include(if: true)').join(' ')} }`, /directives/i],
    ['cost', `{ a: sessions(first: 100) { edges { node { identity { sessions(first: 100) { edges { node { devices { id userAgent ipAddress location firstSeenAt lastSeenAt } identity { traits } } } } } } } } }`, /cost/i],
  ])('refuse a query over the %s limit, saying which', async (_name, query, message) => {
    const result = await post(t, { query });
    expect(result.body.data).toBeUndefined();
    expect(result.body.errors[0].message).toMatch(message);
  });

  it('cap connection pages at MAX_PAGE_SIZE', async () => {
    const small = await createTestApp(pgliteTarget, { env: { MAX_PAGE_SIZE: '5' } });
    try {
      const over = await small.graphql('{ sessions(first: 6) { totalCount } }');
      expect(over.errors?.[0]).toMatchObject({ message: expect.stringMatching(/"first" may be at most 5/), extensions: { code: 'BAD_USER_INPUT' } });
      expect((await small.graphql('{ sessions(first: 5) { totalCount } }')).errors).toBeUndefined();
    } finally {
      await small.dispose();
    }
    // A page so large its cost is over the limit too is refused as the page argument it is, even
    // past GraphQL's 32-bit Int.
    for (const [query, value] of [['{ identities(first: 100000) { totalCount } }', '100000'], ['{ sessions(last: 99999999999) { totalCount } }', '99999999999']] as const) {
      const huge = await post(t, { query });
      expect(huge.body.errors[0]).toMatchObject({ message: expect.stringContaining(`may be at most 100 (got ${value})`), extensions: { code: 'BAD_USER_INPUT' } });
    }
  });

  it('run a signed mutation once per request, aliased or not', async () => {
    const twice = `mutation ($id: ID!) {
      a: revokeSession(input: { sessionId: $id }) { challenge { requestId } }
      b: revokeSession(input: { sessionId: $id }) { challenge { requestId } }
    }`;
    const before = await t.db.prisma.challenge.count();
    const result = await post(t, { query: twice, variables: { id: me.id } });
    expect(result.body.errors[0].extensions.code).toBe('SIGNED_OPERATION_LIMIT');
    const viaFragment = `mutation ($id: ID!) { ...R ...R2 } fragment R on Mutation { revokeSession(input: { sessionId: $id }) { challenge { requestId } } }
      fragment R2 on Mutation { confirmRevocation(input: { requestId: "x", signature: "y" }) { operation } }`;
    expect((await post(t, { query: viaFragment, variables: { id: me.id } })).body.errors[0].extensions.code).toBe('SIGNED_OPERATION_LIMIT');
    expect(await t.db.prisma.challenge.count()).toBe(before);
    const once = await post(t, { query: `mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId } } }`, variables: { id: me.id } });
    expect(once.body.errors).toBeUndefined();
  });

  it('refuse POST bodies a cross-site page could send (CSRF), and accept them with a preflight header', async () => {
    const send = (headers: Record<string, string>) =>
      t.app.fetch('http://sessiongraph.test/graphql', { method: 'POST', headers: { authorization: adminAuthorization, ...headers }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect((await send({ 'content-type': 'text/plain' })).status).toBe(403);
    // With the header the request gets past CSRF prevention (and is then refused as an unknown body format).
    expect((await send({ 'content-type': 'text/plain', 'x-graphql-yoga-csrf': '1' })).status).toBe(415);
    expect((await send({ 'content-type': 'application/json' })).status).toBe(200);
  });

  it('refuse bodies over the size limit, declared or chunked', async () => {
    const small = await createTestApp(pgliteTarget, { env: { MAX_REQUEST_BODY_BYTES: '2048' } });
    try {
      const big = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(4000) } });
      const declared = await small.app.fetch('http://sessiongraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
        body: big,
      });
      expect(declared.status).toBe(413);
      expect((await declared.json()).errors[0].message).toMatch(/larger than 2048 bytes/);
      const chunked = await small.app.fetch(
        new Request('http://sessiongraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close(); } }),
          duplex: 'half',
        } as RequestInit),
      );
      expect(chunked.status).toBe(413);
      const fine = await small.graphql('{ __typename }');
      expect(fine.data).toEqual({ __typename: 'Query' });
    } finally {
      await small.dispose();
    }
  });

  it('do not batch unless BATCH_LIMIT allows it, and count signed mutations across a batch', async () => {
    const batch = [{ query: '{ __typename }' }, { query: '{ __typename }' }];
    expect((await post(t, batch)).status).toBeGreaterThanOrEqual(400);
    const batching = await createTestApp(pgliteTarget, { env: { BATCH_LIMIT: '5' } });
    try {
      const ok = await post(batching, batch);
      expect(ok.body).toEqual([{ data: { __typename: 'Query' } }, { data: { __typename: 'Query' } }]);
      const session = await createBrowserSession(batching, await createIdentity(batching));
      const revoke = { query: `mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId } } }`, variables: { id: session.id } };
      const signed = await post(batching, [revoke, revoke]);
      const codes = (signed.body as { errors?: { extensions: { code: string } }[] }[]).map((r) => r.errors?.[0]?.extensions.code ?? 'ok');
      expect(codes.sort()).toEqual(['SIGNED_OPERATION_LIMIT', 'ok']);
    } finally {
      await batching.dispose();
    }
  });
});

describe('rate limits', () => {
  it('answer an address\'s failed authentications past the limit with 429 and Retry-After, and still let its correct credential in', async () => {
    const t = await createTestApp(pgliteTarget, { env: { RATE_LIMIT_AUTH_FAILURES: '3', RATE_LIMIT_WINDOW_SECONDS: '60' } });
    try {
      const wrong = `Basic ${Buffer.from('admin:definitely-not-the-secret').toString('base64')}`;
      for (let i = 0; i < 3; i++) expect((await post(t, { query: '{ __typename }' }, { authorization: wrong })).status).toBe(401);
      const limited = await post(t, { query: '{ __typename }' }, { authorization: wrong });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.body.errors[0].extensions.code).toBe('RATE_LIMITED');
      expect((await post(t, { query: '{ __typename }' }, { authorization: adminAuthorization })).status).toBe(200);
    } finally {
      await t.dispose();
    }
  });

  it('limit confirmRevocation per caller', async () => {
    const t = await createTestApp(pgliteTarget, { env: { RATE_LIMIT_CONFIRMATIONS: '3' } });
    try {
      const me = await createBrowserSession(t, await createIdentity(t));
      const challenge = await requestRevocation(t, me.id, me.authorization);
      const confirm = () =>
        post(t, { query: `mutation ($r: String!) { confirmRevocation(input: { requestId: $r, signature: "AAAA" }) { operation } }`, variables: { r: challenge.requestId } }, { authorization: me.authorization });
      for (let i = 0; i < 3; i++) expect((await confirm()).body.errors[0].extensions.code).toBe('INVALID_SIGNATURE');
      const limited = await confirm();
      expect(limited.status).toBe(429);
      expect(limited.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    } finally {
      await t.dispose();
    }
  });
});

describe('production mode', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(pgliteTarget, { env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('turns off introspection and GraphiQL', async () => {
    const result = await t.graphql('{ __schema { types { name } } }');
    expect(result.errors?.[0]?.message).toMatch(/introspection/i);
    const page = await t.app.fetch('http://sessiongraph.test/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('<title>sessiongraph</title>');
  });

  it('hides field suggestions and limit details', async () => {
    const typo = await t.graphql('{ sesions { totalCount } }');
    expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean/);
    const deep = await t.graphql(`{ viewer { identity { sessions { edges { node { identity { sessions { edges { node { identity { sessions { edges { node { id } } } } } } } } } } } } } }`);
    expect(deep.errors?.[0]?.message).not.toMatch(/\d/);
  });

  it('can turn them back on with GRAPHIQL and INTROSPECTION', async () => {
    const open = await createTestApp(pgliteTarget, { env: { NODE_ENV: 'production', GRAPHIQL: 'true', INTROSPECTION: 'true' } });
    try {
      expect((await open.graphql('{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      const page = await open.app.fetch('http://sessiongraph.test/graphql', { headers: { accept: 'text/html' } });
      expect(await page.text()).toContain('<title>sessiongraph</title>');
    } finally {
      await open.dispose();
    }
  });

  it('hands the subgraph schema only to API tokens', async () => {
    const anonymous = await post(t, { query: '{ _service { sdl } }' }, { authorization: '' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).not.toMatch(/type Session/);
    const viaFragment = await post(t, { query: '{ ...F } fragment F on Query { _service { sdl } }' }, { authorization: '' });
    expect(viaFragment.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    const gateway = await post(t, { query: '{ _service { sdl } }' });
    expect(gateway.text).toMatch(/type Session/);
    const open = await createTestApp(pgliteTarget, { env: { NODE_ENV: 'production', INTROSPECTION: 'true' } });
    try {
      expect((await post(open, { query: '{ _service { sdl } }' }, { authorization: '' })).text).toMatch(/type Session/);
    } finally {
      await open.dispose();
    }
  });

  it('names no enum values to guessers, codes limit refusals, and echoes no parser internals', async () => {
    const enumGuess = await post(t, { query: '{ sessions(filter: { status: ACTIV }) { totalCount } }' });
    expect(enumGuess.text).not.toMatch(/Did you mean|ACTIVE/);
    expect(enumGuess.body.errors?.[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const deep = await post(t, { query: `{ viewer { identity { sessions { edges { node { identity { sessions { edges { node { identity { sessions { edges { node { id } } } } } } } } } } } } } }` });
    expect(deep.body.errors?.[0]).toMatchObject({ message: 'Query exceeds the depth limit (MAX_DEPTH)', extensions: { code: 'QUERY_LIMIT_EXCEEDED' } });
    const tokens = await post(t, { query: `{ ${Array.from({ length: 2100 }, () => '__typename').join(' ')} }` });
    expect(tokens.body.errors?.[0]).toMatchObject({ message: 'Query exceeds the token limit (MAX_TOKENS)', extensions: { code: 'QUERY_LIMIT_EXCEEDED' } });
    const badJson = await post(t, '{bad');
    expect(badJson.status).toBe(400);
    expect(badJson.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_REQUEST' });
  });

  it('tells anonymous /readyz callers only whether it is ready', async () => {
    const ready = await t.app.fetch('http://sessiongraph.test/readyz');
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('never shows a client a stack, SQL or internal message', async () => {
    const broken = await createTestApp(pgliteTarget, { env: { NODE_ENV: 'production' } });
    try {
      await broken.db.prisma.identity.create({ data: { sessions: { create: {} } } });
      await broken.db.prisma.$executeRawUnsafe('DROP TABLE devices CASCADE'); // a fault in the data layer
      const failing = await broken.graphql(`{ sessions { edges { node { devices { id } } } } }`);
      expect(failing.errors?.[0]?.message).toBe('Unexpected error.');
      expect(failing.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(JSON.stringify(failing)).not.toMatch(/SELECT|relation|stack|devices"/);
      // The details are in the log, under the request id.
      expect(broken.logs.find((l) => l.msg === 'unexpected error in resolver')).toMatchObject({ requestId: expect.any(String) });
    } finally {
      await broken.dispose();
    }
  });
});
