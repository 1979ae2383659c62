// What an adversarial audit sent, replayed: each case is an attack that once hung the server, leaked
// internals or answered 500, and must now be a quick 4xx naming the problem.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuthorization, createTestApp, type TestApp } from '../support/app.js';
import { pgliteTarget } from '../support/databases.js';
import { createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';

async function send(t: TestApp, init: RequestInit & { path?: string }) {
  const response = await t.app.fetch(`http://sessiongraph.test${init.path ?? '/graphql'}`, {
    ...init,
    headers: { 'content-type': 'application/json', authorization: adminAuthorization, ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as { data?: unknown; errors?: { message: string; path?: unknown[]; extensions: Record<string, unknown> }[] } };
}

const post = (t: TestApp, body: string | object, headers: Record<string, string> = {}) =>
  send(t, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });

describe('hostile input', () => {
  let t: TestApp;
  let me: BrowserSession;
  beforeAll(async () => {
    t = await createTestApp(pgliteTarget);
    me = await createBrowserSession(t, await createIdentity(t));
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('refuses a list variable over MAX_LIST_LENGTH at once, naming it, from a session token too', async () => {
    const started = performance.now();
    const statuses = await post(t, {
      query: 'query ($s: [SessionStatus!]) { sessions(first: 1, filter: { status: $s }) { totalCount } }',
      variables: { s: Array(4000).fill('ACTIVE') },
    }, { authorization: me.authorization });
    expect(statuses.body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^\$s has 4000 entries; at most 500/), extensions: { code: 'BAD_USER_INPUT' } });
    const types = await post(t, {
      query: 'query ($f: SessionFilter) { sessions(first: 1, filter: $f) { totalCount } }',
      variables: { f: { type: Array(70_000).fill('OAUTH') } },
    });
    expect(types.body.errors?.[0]?.message).toMatch(/^\$f\.type has 70000 entries/);
    const nested = await post(t, {
      query: 'query ($id: ID!, $s: [SessionStatus!]) { identity(id: $id) { sessions(status: $s) { totalCount } } }',
      variables: { id: 'Identity:00000000-0000-7000-8000-000000000000', s: Array(16_000).fill('EXPIRED') },
    });
    expect(nested.body.errors?.[0]?.message).toMatch(/^\$s has 16000 entries/);
    const ids = await post(t, { query: 'query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', variables: { ids: Array(501).fill(me.id) } });
    expect(ids.body.errors?.[0]?.message).toMatch(/^\$ids has 501 entries/);
    const literal = await post(t, { query: `{ nodes(ids: [${Array(600).fill('"x"').join(',')}]) { id } }` });
    expect(literal.body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^argument "ids" has 600 entries/), extensions: { code: 'BAD_USER_INPUT' } });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('treats a repeated enum value as one condition', async () => {
    const many = await post(t, {
      query: 'query ($s: [SessionStatus!]) { sessions(first: 1, filter: { status: $s }) { totalCount } }',
      variables: { s: Array(500).fill('ACTIVE') },
    });
    const once = await post(t, { query: '{ sessions(first: 1, filter: { status: [ACTIVE] }) { totalCount } }' });
    expect(many.body).toEqual(once.body);
    expect(many.body.errors).toBeUndefined();
  });

  it('answers deeply nested variables with a 4xx, never a stack overflow', async () => {
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    // Not declared by the operation: never read, never walked.
    const unused = await post(t, `{"query":"{ __typename }","variables":{"x":${deep}}}`);
    expect(unused.status).toBe(200);
    expect(unused.body.data).toEqual({ __typename: 'Query' });
    const declared = await post(t, `{"query":"mutation ($t: JSON!) { createIdentity(input: { traits: $t }) { identity { id } } }","variables":{"t":{"a":${deep}}}}`);
    expect(declared.body.errors?.[0]).toMatchObject({ message: '$t nests deeper than 32 levels (MAX_INPUT_DEPTH)', extensions: { code: 'BAD_USER_INPUT' } });
    expect(declared.text).not.toMatch(/at .*\.ts/);
  });

  it('refuses strings PostgreSQL cannot store, in variables, JSON keys and literals', async () => {
    const mutation = 'mutation ($t: JSON!) { createIdentity(input: { traits: $t }) { identity { id } } }';
    const before = await t.db.prisma.identity.count();
    for (const traits of [{ name: 'a\u0000b' }, { name: 'a\ud800b' }, { ['k\udc00']: 1 }]) {
      const result = await post(t, { query: mutation, variables: { t: traits } });
      expect(result.body.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
      expect(result.body.errors?.[0]?.message).toMatch(/NUL character|well-formed Unicode/);
    }
    // A refused entry deep in a variable is named by its path.
    const ids = await post(t, { query: 'query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', variables: { ids: ['Session:x', 'Session:y', 'a\u0000'] } });
    expect(ids.body.errors?.[0]).toMatchObject({ message: 'Strings must not contain the NUL character (U+0000) ($ids[2])', extensions: { code: 'BAD_USER_INPUT', argument: '$ids[2]' } });
    const filter = await post(t, { query: 'query ($f: SessionFilter) { sessions(filter: $f) { totalCount } }', variables: { f: { clientId: 'a\ud800' } } });
    expect(filter.body.errors?.[0]?.message).toBe('Strings must be well-formed Unicode (a lone UTF-16 surrogate cannot be stored) ($f.clientId)');
    const literal = await post(t, { query: '{ sessions(filter: { clientId: "a\\u0000" }) { totalCount } }' });
    expect(literal.body.errors?.[0]?.message).toMatch(/NUL character.*argument "filter"/);
    expect(await t.db.prisma.identity.count()).toBe(before);
  });

  it('answers GET with variables that are not JSON with 400', async () => {
    const result = await send(t, { method: 'GET', path: '/graphql?query=%7B__typename%7D&variables=%7Bbad' });
    expect(result.status).toBe(400);
    expect(result.body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/not valid JSON/), extensions: { code: 'BAD_REQUEST' } });
  });

  it('refuses an entity representation whose id is not a string', async () => {
    const result = await post(t, {
      query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Session { id } } }',
      variables: { r: [{ __typename: 'Session', id: { a: 1 } }, { __typename: 'Session', id: me.id }] },
    });
    expect(result.body.errors).toEqual([expect.objectContaining({ path: ['_entities', 0], extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    expect(result.body.data).toEqual({ _entities: [null, { id: me.id }] });
  });

  it('answers nodes(ids:) with a malformed id as null at its position, the rest intact', async () => {
    const result = await post(t, { query: `{ nodes(ids: ["${me.id}", "bad", "Session:00000000-0000-7000-8000-000000000000"]) { id } }` });
    expect(result.body.data).toEqual({ nodes: [{ id: me.id }, null, null] });
    expect(result.body.errors).toEqual([
      expect.objectContaining({ path: ['nodes', 1], message: expect.stringMatching(/^Invalid id "bad"/), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ]);
  });

  it('does not let an inactive identity\'s sessions authenticate, or sign', async () => {
    const identityId = await createIdentity(t);
    const session = await createBrowserSession(t, identityId);
    expect((await post(t, { query: '{ viewer { session { id } } }' }, { authorization: session.authorization })).status).toBe(200);
    await t.db.prisma.identity.update({ where: { id: identityId.split(':')[1] }, data: { state: 'INACTIVE' } });
    const refused = await post(t, { query: '{ viewer { session { id } } }' }, { authorization: session.authorization });
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });
});
