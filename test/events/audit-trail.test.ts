// The audit trail through the real handler: every change writes its event (and a refused change
// none), events read newest first as connections, and admin-only details stay admin-only.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeEvents, sweepLapses } from '../../src/events/lapses.js';
import { importDocument } from '../../src/import/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { confirmMutation, createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';

const eventFields = `id type sequence occurredAt details actorApiTokenId reason ipAddress
  identity { id } session { id } credential { id } actorSession { id }`;

const identityEvents = `query ($id: ID!, $first: Int, $after: String, $types: [SessionEventType!]) {
  node(id: $id) { ... on Identity { events(first: $first, after: $after, types: $types) {
    totalCount edges { cursor node { ${eventFields} } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }
}`;

interface Event {
  id: string;
  type: string;
  sequence: string;
  occurredAt: string;
  details: Record<string, unknown> | null;
  actorApiTokenId: string | null;
  reason: string | null;
  ipAddress: string | null;
  session: { id: string } | null;
  credential: { id: string } | null;
  actorSession: { id: string } | null;
}

type Connection = { totalCount: number; edges: { cursor: string; node: Event }[]; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null } };

describe.each(databaseTargets)('the audit trail on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target, { env: { EVENT_ACTIVITY_INTERVAL_SECONDS: '300' } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function eventsOf(identityId: string, headers?: Record<string, string>, variables: Record<string, unknown> = {}): Promise<Connection> {
    const result = await t.graphql<{ node: { events: Connection } | null }>(identityEvents, { id: identityId, first: 50, ...variables }, headers);
    expect(result.errors).toBeUndefined();
    return result.data!.node!.events;
  }

  const types = (connection: Connection) => connection.edges.map((edge) => edge.node.type);

  it('records a session\'s life, newest first, each change once', async () => {
    const identityId = await createIdentity(t, { email: 'ada@example.com' });
    const laptop = await createBrowserSession(t, identityId, { clientId: 'client_laptop' });
    const phone = await createBrowserSession(t, identityId);
    const touch = `mutation ($input: RecordSessionActivityInput!) { recordSessionActivity(input: $input) { device { id } } }`;
    // Two touches within EVENT_ACTIVITY_INTERVAL_SECONDS: one activity event.
    for (let i = 0; i < 2; i++) {
      const touched = await t.graphql(touch, { input: { sessionId: phone.id, userAgent: 'Phone/1', ipAddress: '203.0.113.7' } });
      expect(touched.errors).toBeUndefined();
    }
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const extended = await t.graphql(`mutation ($input: ExtendSessionInput!) { extendSession(input: $input) { session { id } } }`, { input: { sessionId: phone.id, until } });
    expect(extended.errors).toBeUndefined();
    // The laptop signs the phone out: "sign out other devices".
    const asked = await t.graphql<{ revokeOtherSessions: { challenge: { requestId: string; payloadToSign: string } } }>(
      `mutation { revokeOtherSessions(input: {}) { challenge { requestId payloadToSign } } }`,
      {},
      { authorization: laptop.authorization },
    );
    const { requestId, payloadToSign } = asked.data!.revokeOtherSessions.challenge;
    const confirmed = await t.graphql(confirmMutation, { input: { requestId, signature: await laptop.sign(payloadToSign) } }, { authorization: laptop.authorization });
    expect(confirmed.errors).toBeUndefined();

    const admin = await eventsOf(identityId);
    expect(types(admin)).toEqual([
      'OTHER_SESSIONS_REVOKED',
      'SESSION_REVOKED',
      'SESSION_EXTENDED',
      'SESSION_ACTIVITY_RECORDED',
      'SESSION_CREATED',
      'SESSION_CREATED',
      'IDENTITY_CREATED',
    ]);
    expect(admin.totalCount).toBe(7);
    const sequences = admin.edges.map((edge) => BigInt(edge.node.sequence));
    expect([...sequences].sort((a, b) => (a < b ? 1 : -1))).toEqual(sequences);
    const [summary, revoked, extension, activity, phoneCreated, laptopCreated] = admin.edges.map((edge) => edge.node);
    expect(revoked).toMatchObject({ session: { id: phone.id }, actorSession: { id: laptop.id }, actorApiTokenId: null });
    expect(summary).toMatchObject({ session: { id: laptop.id }, actorSession: { id: laptop.id }, details: { revokedCount: 1, revokedSessionIds: [phone.id] } });
    expect(extension!.details).toEqual({ previousExpiresAt: expect.any(String), expiresAt: until });
    expect(activity).toMatchObject({ session: { id: phone.id }, actorApiTokenId: 'admin', details: { deviceId: expect.stringMatching(/^Device:/) } });
    expect(phoneCreated).toMatchObject({ session: { id: phone.id }, actorApiTokenId: 'admin', ipAddress: expect.any(String) });
    expect(laptopCreated!.details).toEqual({ type: 'PASSKEY', clientId: 'client_laptop' });

    // The laptop reads the same history, without what only admins see.
    const own = await eventsOf(identityId, { authorization: laptop.authorization });
    expect(types(own)).toEqual(types(admin));
    for (const { node } of own.edges) expect([node.actorApiTokenId, node.reason, node.ipAddress]).toEqual([null, null, null]);
    expect(own.edges[4]!.node.actorApiTokenId).toBeNull();

    // Session.events: only that session's.
    const sessionEvents = await t.graphql<{ node: { events: Connection } }>(
      `query ($id: ID!) { node(id: $id) { ... on Session { events { edges { node { type } } } } } }`,
      { id: phone.id },
      { authorization: laptop.authorization },
    );
    expect(types(sessionEvents.data!.node.events)).toEqual(['SESSION_REVOKED', 'SESSION_EXTENDED', 'SESSION_ACTIVITY_RECORDED', 'SESSION_CREATED']);
  });

  it('writes no event for a change that was refused, and the reason for admins only', async () => {
    const identityId = await createIdentity(t);
    const session = await createBrowserSession(t, identityId);
    const revoke = `mutation ($input: AdminRevokeSessionInput!) { adminRevokeSession(input: $input) { session { id } } }`;
    expect((await t.graphql(revoke, { input: { sessionId: session.id, reason: 'reported stolen' } })).errors).toBeUndefined();
    const again = await t.graphql(revoke, { input: { sessionId: session.id, reason: 'twice' } });
    expect(again.errors?.[0]?.extensions?.code).toBe('SESSION_ALREADY_REVOKED');
    const events = await eventsOf(identityId, {}, { types: ['SESSION_REVOKED'] });
    expect(events.edges.map((edge) => [edge.node.reason, edge.node.actorApiTokenId])).toEqual([['reported stolen', 'admin']]);
  });

  it('keeps other identities\' events out of a session\'s sight', async () => {
    const mine = await createIdentity(t);
    const theirs = await createIdentity(t);
    const me = await createBrowserSession(t, mine);
    const them = await createBrowserSession(t, theirs);
    const probe = await t.graphql<{ node: unknown; events?: unknown }>(
      `query ($id: ID!) { node(id: $id) { ... on Session { events { totalCount } } } }`,
      { id: them.id },
      { authorization: me.authorization },
    );
    expect(probe.data?.node).toBeNull();
    const all = await t.graphql(`{ events { totalCount } }`, {}, { authorization: me.authorization });
    expect(all.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // An event of theirs by id reads like one that does not exist.
    const theirEvent = (await eventsOf(theirs)).edges[0]!.node.id;
    const byId = await t.graphql<{ node: unknown }>(`query ($id: ID!) { node(id: $id) { id } }`, { id: theirEvent }, { authorization: me.authorization });
    expect(byId.data?.node).toBeNull();
  });

  it('pages the admin list with filters and cursors, without gaps or repeats', async () => {
    const identityId = await createIdentity(t);
    const started = new Date();
    for (let i = 0; i < 5; i++) await createBrowserSession(t, identityId);
    const query = `query ($first: Int, $after: String, $filter: SessionEventFilter) {
      events(first: $first, after: $after, filter: $filter) { totalCount edges { node { id type } } pageInfo { hasNextPage hasPreviousPage endCursor } }
    }`;
    const filter = { identityId, types: ['SESSION_CREATED'], occurredAfter: started.toISOString() };
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { data?: { events: Connection }; errors?: unknown } = await t.graphql(query, { first: 2, after, filter });
      expect(page.errors).toBeUndefined();
      const events = page.data!.events;
      expect(events.totalCount).toBe(5);
      expect(events.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...events.edges.map((edge) => edge.node.id));
      if (!events.pageInfo.hasNextPage) break;
      after = events.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    const before = await t.graphql<{ events: Connection }>(query, { filter: { ...filter, occurredAfter: undefined, occurredBefore: started.toISOString() } });
    expect(before.data!.events.totalCount).toBe(0);
    const bad = await t.graphql(query, { after: 'nope' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('records identity state changes once, and a token issued at most once per interval', async () => {
    const identityId = await createIdentity(t);
    const session = await createBrowserSession(t, identityId);
    const mint = `mutation ($input: CreateSessionTokenInput!) { createSessionToken(input: $input) { token { jwt } } }`;
    for (let i = 0; i < 3; i++) expect((await t.graphql(mint, { input: { sessionId: session.id } })).errors).toBeUndefined();
    const setState = `mutation ($input: SetIdentityStateInput!) { setIdentityState(input: $input) { identity { state } } }`;
    for (const state of ['INACTIVE', 'INACTIVE', 'ACTIVE']) {
      const changed = await t.graphql<{ setIdentityState: { identity: { state: string } } }>(setState, { input: { identityId, state } });
      expect(changed.data?.setIdentityState.identity.state).toBe(state);
    }
    const events = await eventsOf(identityId, {}, { types: ['IDENTITY_STATE_CHANGED', 'SESSION_TOKEN_ISSUED'] });
    expect(events.edges.map((edge) => [edge.node.type, edge.node.details?.state ?? null])).toEqual([
      ['IDENTITY_STATE_CHANGED', 'ACTIVE'],
      ['IDENTITY_STATE_CHANGED', 'INACTIVE'],
      ['SESSION_TOKEN_ISSUED', null],
    ]);
    const missing = await t.graphql(setState, { input: { identityId: 'Identity:00000000-0000-7000-8000-000000000000', state: 'ACTIVE' } });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const byASession = await t.graphql(setState, { input: { identityId, state: 'INACTIVE' } }, { authorization: session.authorization });
    expect(byASession.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('records each expiry and abandonment once, at the moment it happened', async () => {
    const identityId = await createIdentity(t);
    const soon = Date.now() + 60_000;
    const expiring = await createBrowserSession(t, identityId, { expiresAt: new Date(soon).toISOString() });
    const abandoning = await createBrowserSession(t, identityId, { expiresAt: new Date(soon + 1000).toISOString(), abandonAt: new Date(soon - 1000).toISOString() });
    const revoked: BrowserSession = await createBrowserSession(t, identityId, { expiresAt: new Date(soon).toISOString() });
    await t.graphql(`mutation ($input: AdminRevokeSessionInput!) { adminRevokeSession(input: $input) { session { id } } }`, { input: { sessionId: revoked.id } });
    const sweep = (at: number) => sweepLapses(t.db.prisma, undefined, new Date(at));
    await sweep(soon - 30_000);
    expect(await sweep(soon + 5000)).toBeGreaterThanOrEqual(2);
    expect(await sweep(soon + 10_000)).toBe(0);
    const events = await eventsOf(identityId, {}, { types: ['SESSION_EXPIRED', 'SESSION_ABANDONED'] });
    const bySession = new Map(events.edges.map((edge) => [edge.node.session!.id, edge.node]));
    expect(events.edges).toHaveLength(2);
    expect(bySession.get(expiring.id)).toMatchObject({ type: 'SESSION_EXPIRED', occurredAt: new Date(soon).toISOString() });
    expect(bySession.get(abandoning.id)).toMatchObject({ type: 'SESSION_ABANDONED', occurredAt: new Date(soon - 1000).toISOString() });
  });

  it('records imports, and purges events past their retention in batches', async () => {
    const document = JSON.parse(readFileSync(new URL('../fixtures/kratos-sessions.json', import.meta.url), 'utf8')) as unknown;
    const summary = await importDocument(t.db, 'KRATOS', document, { origin: { actorApiClientId: 'admin' } });
    const importedEvents = (type: 'SESSION_IMPORTED' | 'IDENTITY_IMPORTED') => t.db.prisma.sessionEvent.count({ where: { type, actorApiClientId: 'admin' } });
    expect(await importedEvents('SESSION_IMPORTED')).toBe(summary.sessionIds.length);
    expect(await importedEvents('IDENTITY_IMPORTED')).toBe(summary.identitiesCreated);
    // Imported again: each session is recorded as updated, no identity as new.
    await importDocument(t.db, 'KRATOS', document, { origin: { actorApiClientId: 'admin' } });
    expect(await importedEvents('SESSION_IMPORTED')).toBe(2 * summary.sessionIds.length);
    expect(await importedEvents('IDENTITY_IMPORTED')).toBe(summary.identitiesCreated);
    const total = await t.db.prisma.sessionEvent.count();
    expect(total).toBeGreaterThan(3);
    // Nothing is old enough yet; then, a year on, every event goes, three at a time.
    expect(await purgeEvents(t.db.prisma, new Date(), 90 * 86_400_000, 3)).toBe(0);
    const later = new Date(Date.now() + 365 * 86_400_000);
    let purged = 0;
    for (let deleted = 3; deleted === 3; purged += deleted) deleted = await purgeEvents(t.db.prisma, later, 90 * 86_400_000, 3);
    expect(purged).toBe(total);
  });
});
