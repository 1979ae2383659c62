// "Sign out other devices" from two devices of one account at the same moment: whichever commits
// first wins, and the other finds its signer signed out. The account always keeps a session. And
// challenges do not pile up: capped while open, however many are asked for at once, and purged after use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeChallenges } from '../../src/revocation/service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { confirmMutation, createBrowserSession, createIdentity, requestRevocation, type BrowserSession } from '../support/sessions.js';

const repetitions = 50;

describe.each(databaseTargets)('concurrent signed revocations on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    // Losers' tokens stop authenticating: many failures from one address, on purpose.
    t = await createTestApp(target, { env: { RATE_LIMIT_CONFIRMATIONS: '100000', RATE_LIMIT_AUTH_FAILURES: '100000' } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function signOutOthers(device: BrowserSession) {
    const requested = await t.graphql<{ revokeOtherSessions: { challenge: { requestId: string; payloadToSign: string } } }>(
      'mutation { revokeOtherSessions(input: {}) { challenge { requestId payloadToSign } } }',
      {},
      { authorization: device.authorization },
    );
    expect(requested.errors).toBeUndefined();
    return requested.data!.revokeOtherSessions.challenge;
  }

  const confirm = (device: BrowserSession, challenge: { requestId: string; payloadToSign: string }) =>
    device.sign(challenge.payloadToSign).then((signature) =>
      t.graphql(confirmMutation, { input: { requestId: challenge.requestId, signature } }, { authorization: device.authorization }),
    );

  async function activeSessions(identityId: string) {
    return t.db.prisma.session.count({ where: { identityId: identityId.split(':')[1], status: 'ACTIVE' } });
  }

  it(`leaves one session when two devices sign each other out at once (${repetitions} tries)`, async () => {
    for (let i = 0; i < repetitions; i++) {
      const identityId = await createIdentity(t);
      const [laptop, phone] = [await createBrowserSession(t, identityId), await createBrowserSession(t, identityId)];
      const [fromLaptop, fromPhone] = [await signOutOthers(laptop), await signOutOthers(phone)];
      const results = await Promise.all([confirm(laptop, fromLaptop), confirm(phone, fromPhone)]);
      const succeeded = results.filter((r) => !r.errors);
      expect(succeeded).toHaveLength(1);
      // The loser was signed out: its signature no longer counts, or (when the winner committed
      // before the loser's request began) its token no longer authenticates.
      expect(['INVALID_SIGNATURE', 'UNAUTHENTICATED']).toContain(results.find((r) => r.errors)?.errors?.[0]?.extensions?.code);
      expect(await activeSessions(identityId)).toBe(1);
    }
  });

  it('leaves one session when two devices revoke each other at once', async () => {
    for (let i = 0; i < 10; i++) {
      const identityId = await createIdentity(t);
      const [laptop, phone] = [await createBrowserSession(t, identityId), await createBrowserSession(t, identityId)];
      const [revokePhone, revokeLaptop] = [
        await requestRevocation(t, phone.id, laptop.authorization),
        await requestRevocation(t, laptop.id, phone.authorization),
      ];
      await Promise.all([confirm(laptop, revokePhone), confirm(phone, revokeLaptop)]);
      expect(await activeSessions(identityId)).toBe(1);
    }
  });

  it('leaves one session when one device revokes the other while that one signs out its others', async () => {
    for (let i = 0; i < 20; i++) {
      const identityId = await createIdentity(t);
      const [laptop, phone] = [await createBrowserSession(t, identityId), await createBrowserSession(t, identityId)];
      const revokePhone = await requestRevocation(t, phone.id, laptop.authorization);
      const fromPhone = await signOutOthers(phone);
      const results = await Promise.all([confirm(laptop, revokePhone), confirm(phone, fromPhone)]);
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      expect(await activeSessions(identityId)).toBe(1);
    }
  });
});

describe('challenges', () => {
  let t: TestApp;
  let clock = Date.now();
  beforeAll(async () => {
    t = await createTestApp(databaseTargets[0]!, { now: () => new Date(clock), env: { MAX_OPEN_CHALLENGES: '3' } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('are capped per identity while open, and purged once used or expired past the retention', async () => {
    const identityId = await createIdentity(t);
    const [laptop, phone] = [await createBrowserSession(t, identityId), await createBrowserSession(t, identityId)];
    for (let i = 0; i < 3; i++) await requestRevocation(t, phone.id, laptop.authorization);
    const fourth = await t.graphql('mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId } } }', { id: phone.id }, { authorization: laptop.authorization });
    expect(fourth.errors?.[0]?.extensions?.code).toBe('TOO_MANY_CHALLENGES');
    // Once they expire, new ones may be had; the old ones stay until the retention has passed.
    clock += 6 * 60_000;
    await requestRevocation(t, phone.id, laptop.authorization);
    expect(await t.db.prisma.challenge.count()).toBe(4);
    expect(await purgeChallenges(t.db.prisma, new Date(clock), 24 * 3_600_000)).toBe(0);
    expect(await purgeChallenges(t.db.prisma, new Date(clock + 25 * 3_600_000), 24 * 3_600_000, 2)).toBe(2);
    expect(await purgeChallenges(t.db.prisma, new Date(clock + 25 * 3_600_000), 24 * 3_600_000)).toBe(2);
    expect(await t.db.prisma.challenge.count()).toBe(0);
  });
});

describe.each(databaseTargets)('challenges asked for at once on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target, { env: { MAX_OPEN_CHALLENGES: '3' } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('are never more than the cap when many are asked for at once', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const identityId = await createIdentity(t);
      const [laptop, phone] = [await createBrowserSession(t, identityId), await createBrowserSession(t, identityId)];
      const asked = await Promise.all(
        Array.from({ length: 12 }, () => t.graphql('mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId } } }', { id: phone.id }, { authorization: laptop.authorization })),
      );
      const issued = asked.filter((result) => !result.errors);
      expect(asked.filter((result) => result.errors).every((result) => result.errors![0]!.extensions?.code === 'TOO_MANY_CHALLENGES')).toBe(true);
      expect(issued.length).toBeLessThanOrEqual(3);
      const stored = () => t.db.prisma.challenge.count({ where: { identityId: identityId.slice('Identity:'.length) } });
      expect(await stored()).toBe(issued.length);
      // Those that raced at the cap may all have been refused; asked one at a time, the account fills up to it.
      for (let more = issued.length; more < 3; more++) await requestRevocation(t, phone.id, laptop.authorization);
      expect(await stored()).toBe(3);
    }
  });
});
