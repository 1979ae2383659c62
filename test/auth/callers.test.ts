import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';

describe.each(databaseTargets)('callers and what they see on $name', (target) => {
  let t: TestApp;
  let mine: string;
  let theirs: string;
  let me: BrowserSession;
  let them: BrowserSession;
  let theirDeviceId: string;

  beforeAll(async () => {
    t = await createTestApp(target);
    mine = await createIdentity(t, { email: 'me@example.com' });
    theirs = await createIdentity(t, { email: 'them@example.com' });
    me = await createBrowserSession(t, mine, { devices: [{ userAgent: 'my browser' }] });
    them = await createBrowserSession(t, theirs, { devices: [{ userAgent: 'their browser' }] });
    await t.db.prisma.credential.create({ data: { identityId: mine.slice(9), type: 'PASSWORD', identifiers: ['me@example.com'] } });
    const device = await t.db.prisma.device.findFirstOrThrow({ where: { sessionId: them.id.slice(8) } });
    theirDeviceId = `Device:${device.id}`;
  });
  afterAll(async () => {
    await t.dispose();
  });

  const as = (authorization: string) => ({ authorization });

  it('gives an anonymous caller the schema and nothing else', async () => {
    expect(await t.graphql('{ __typename }', {}, as(''))).toEqual({ data: { __typename: 'Query' } });
    for (const query of ['{ viewer { session { id } } }', '{ sessions(first: 1) { totalCount } }', `{ node(id: "${me.id}") { id } }`]) {
      const result = await t.graphql(query, {}, as(''));
      expect(result.errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
    }
  });

  it.each([
    ['Basic ' + Buffer.from('admin:wrong-secret-wrong-secret').toString('base64')],
    ['Basic ' + Buffer.from('nobody:whatever').toString('base64')],
    ['Basic not-base64-colon'],
    ['Bearer sgs_not-a-token'],
    ['Digest abc'],
  ])('answers bad credentials %j with 401 UNAUTHENTICATED', async (authorization) => {
    const response = await t.app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/Basic/);
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(body)).not.toMatch(/stack|at \w+ \(/);
  });

  it('shows a session its own identity as viewer, like Kratos whoami', async () => {
    const result = await t.graphql(`{ viewer { session { id } identity { id traits metadataAdmin } apiClient { tokenId } } }`, {}, as(me.authorization));
    expect(result).toEqual({
      data: { viewer: { session: { id: me.id }, identity: { id: mine, traits: { email: 'me@example.com' }, metadataAdmin: null }, apiClient: null } },
    });
  });

  it('answers another identity\'s ids exactly like ids that do not exist', async () => {
    const missing = 'Session:0195f000-0000-7000-8000-000000000000';
    const query = `query ($i: ID!, $s: ID!, $d: ID!, $m: ID!) {
      identity(id: $i) { id } session(id: $s) { id } device: node(id: $d) { id } missing: node(id: $m) { id }
      nodes(ids: [$i, $s, $d, $m]) { id }
    }`;
    const result = await t.graphql(query, { i: theirs, s: them.id, d: theirDeviceId, m: missing }, as(me.authorization));
    expect(result).toEqual({ data: { identity: null, session: null, device: null, missing: null, nodes: [null, null, null, null] } });
    // The admin sees them all.
    const admin = await t.graphql(query, { i: theirs, s: them.id, d: theirDeviceId, m: missing });
    expect(admin.data).toMatchObject({ identity: { id: theirs }, session: { id: them.id }, device: { id: theirDeviceId }, missing: null });
  });

  it('lists only the caller\'s own sessions and identity, and hides admin data', async () => {
    const result = await t.graphql<{
      sessions: { totalCount: number; edges: { node: { id: string } }[] };
      identities: { edges: { node: { id: string; metadataAdmin: unknown; credentials: { type: string; identifiers: string[] | null }[] } }[] };
    }>(
      `{ sessions { totalCount edges { node { id } } } identities { edges { node { id metadataAdmin credentials { type identifiers } } } } }`,
      {},
      as(me.authorization),
    );
    expect(result.data!.sessions).toEqual({ totalCount: 1, edges: [{ node: { id: me.id } }] });
    expect(result.data!.identities.edges).toEqual([{ node: { id: mine, metadataAdmin: null, credentials: [{ type: 'PASSWORD', identifiers: null }] } }]);
    const admin = await t.graphql<typeof result.data>(`query ($id: ID!) { identity(id: $id) { metadataAdmin credentials { identifiers } } }`, { id: mine });
    expect(admin.data).toEqual({ identity: { metadataAdmin: { note: 'admins only' }, credentials: [{ identifiers: ['me@example.com'] }] } });
  });

  it('keeps admin mutations from sessions (FORBIDDEN) and a session from revoking another identity\'s session (NOT_FOUND)', async () => {
    const create = await t.graphql(`mutation { createIdentity(input: { traits: {} }) { identity { id } } }`, {}, as(me.authorization));
    expect(create.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const revoke = await t.graphql(`mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId } } }`, { id: them.id }, as(me.authorization));
    expect(revoke.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('creates API tokens shown once; a READ token reads everything and changes nothing', async () => {
    const created = await t.graphql<{ createApiToken: { apiClient: { tokenId: string; scope: string }; secret: string; authorization: string } }>(
      `mutation { createApiToken(input: { name: "reporting", scope: READ }) { apiClient { tokenId scope } secret authorization } }`,
    );
    expect(created.errors).toBeUndefined();
    const { apiClient, secret, authorization } = created.data!.createApiToken;
    expect(authorization).toBe(`Basic ${Buffer.from(`${apiClient.tokenId}:${secret}`).toString('base64')}`);
    const stored = await t.db.prisma.apiClient.findUniqueOrThrow({ where: { id: apiClient.tokenId } });
    expect(stored.secretHash).not.toContain(secret);

    const read = await t.graphql<{ sessions: { totalCount: number } }>(`{ sessions { totalCount } viewer { apiClient { tokenId scope } } }`, {}, as(authorization));
    expect(read.data).toEqual({ sessions: { totalCount: 2 }, viewer: { apiClient: { tokenId: apiClient.tokenId, scope: 'READ' } } });
    const write = await t.graphql(`mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }`, { id: them.id }, as(authorization));
    expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const lastUsed = await t.db.prisma.apiClient.findUniqueOrThrow({ where: { id: apiClient.tokenId } });
    expect(lastUsed.lastUsedAt).toBeInstanceOf(Date);
  });

  it('lets an admin revoke, mass-revoke and extend without a signature', async () => {
    const owner = await createIdentity(t);
    const [a, b] = [await createBrowserSession(t, owner), await createBrowserSession(t, owner)];
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const extended = await t.graphql(`mutation ($id: ID!, $until: DateTime!) { extendSession(input: { sessionId: $id, until: $until }) { session { expiresAt } } }`, {
      id: a.id,
      until,
    });
    expect(extended.data).toEqual({ extendSession: { session: { expiresAt: until } } });
    const past = await t.graphql(`mutation ($id: ID!) { extendSession(input: { sessionId: $id, until: "2020-01-01T00:00:00Z" }) { session { id } } }`, { id: a.id });
    expect(past.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.until' });

    const all = await t.graphql<{ revokeIdentitySessions: { revokedCount: number; revokedSessions: { id: string; status: string; revocationReason: string }[] } }>(
      `mutation ($id: ID!) { revokeIdentitySessions(input: { identityId: $id, reason: "account compromised" }) { revokedCount revokedSessions { id status revocationReason } } }`,
      { id: owner },
    );
    expect(all.data!.revokeIdentitySessions.revokedCount).toBe(2);
    expect(all.data!.revokeIdentitySessions.revokedSessions.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
    expect(all.data!.revokeIdentitySessions.revokedSessions.every((s) => s.status === 'REVOKED' && s.revocationReason === 'account compromised')).toBe(true);
    const again = await t.graphql(`mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }`, { id: a.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('SESSION_ALREADY_REVOKED');
  });
});
