// Grid's signed add-credential: the same two steps and signature rules as revocation — an active
// session of the same account signs, once, within the challenge's lifetime — and the signature
// covers exactly the credential that is added.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';

const add = `mutation ($input: AddCredentialInput!) { addCredential(input: $input) { challenge { requestId payloadToSign type operation expiresAt } } }`;
const confirm = `mutation ($input: ConfirmChallengeInput!) { confirmChallenge(input: $input) {
  operation session { id } credential { id type identifiers nickname revokedAt } } }`;
type Added = { addCredential: { challenge: { requestId: string; payloadToSign: string; type: string; operation: string } } };
type Confirmed = { confirmChallenge: { operation: string; session: { id: string }; credential: { id: string; type: string; identifiers: string[]; nickname: string | null } } };

describe.each(databaseTargets)('adding a credential on $name', (target) => {
  let t: TestApp;
  let clock = Date.now();
  let identityId: string;
  let laptop: BrowserSession;
  beforeAll(async () => {
    t = await createTestApp(target, { now: () => new Date(clock), env: { RATE_LIMIT_CONFIRMATIONS: '10000' } });
    identityId = await createIdentity(t, { email: 'grace@example.com' });
    laptop = await createBrowserSession(t, identityId);
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function requestAdd(by: BrowserSession, input: Record<string, unknown>) {
    const result = await t.graphql<Added>(add, { input }, { authorization: by.authorization });
    expect(result.errors).toBeUndefined();
    return result.data!.addCredential.challenge;
  }
  const confirmWith = async (by: BrowserSession, challenge: { requestId: string; payloadToSign: string }) =>
    t.graphql<Confirmed>(confirm, { input: { requestId: challenge.requestId, signature: await by.sign(challenge.payloadToSign) } }, { authorization: by.authorization });

  it('adds the credential the signature covers, once', async () => {
    const challenge = await requestAdd(laptop, { type: 'EMAIL_OTP', identifiers: ['grace@example.com'], nickname: 'work mail' });
    expect(challenge).toMatchObject({ type: 'EMAIL_OTP', operation: 'ADD_CREDENTIAL' });
    const signed = JSON.parse(Buffer.from(challenge.payloadToSign, 'base64').toString('utf8'));
    expect(signed.credential).toEqual({ type: 'EMAIL_OTP', identifiers: ['grace@example.com'], nickname: 'work mail' });
    expect(await t.db.prisma.credential.count({ where: { identityId: identityId.split(':')[1] } })).toBe(0);

    const confirmed = await confirmWith(laptop, challenge);
    expect(confirmed.errors).toBeUndefined();
    expect(confirmed.data!.confirmChallenge).toMatchObject({
      operation: 'ADD_CREDENTIAL',
      session: { id: laptop.id },
      // Identifiers are for admins' eyes; the session sees the rest.
      credential: { type: 'EMAIL_OTP', identifiers: null, nickname: 'work mail' },
    });
    const stored = await t.db.prisma.credential.findUniqueOrThrow({ where: { id: confirmed.data!.confirmChallenge.credential.id.split(':')[1] } });
    expect(stored).toMatchObject({ type: 'EMAIL_OTP', identifiers: ['grace@example.com'], identityId: identityId.split(':')[1] });
    // Replayed: the challenge works once.
    expect((await confirmWith(laptop, challenge)).errors?.[0]?.extensions?.code).toBe('CHALLENGE_CONSUMED');
    // The same credential again is refused up front.
    const again = await t.graphql(add, { input: { type: 'EMAIL_OTP', identifiers: ['grace@example.com'] } }, { authorization: laptop.authorization });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CREDENTIAL_EXISTS', field: 'input.identifiers' });
  });

  it("refuses another account's signature, an expired challenge, and works through confirmRevocation too", async () => {
    const stranger = await createBrowserSession(t, await createIdentity(t));
    const challenge = await requestAdd(laptop, { type: 'PASSKEY', identifiers: ['passkey-1'] });
    const foreign = await t.graphql(confirm, { input: { requestId: challenge.requestId, signature: await stranger.sign(challenge.payloadToSign) } }, { authorization: laptop.authorization });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('INVALID_SIGNATURE');
    // The stranger cannot even see the challenge.
    expect((await confirmWith(stranger, challenge)).errors?.[0]?.extensions?.code).toBe('CHALLENGE_NOT_FOUND');
    const older = await t.graphql<{ confirmRevocation: { credential: { type: string } } }>(
      'mutation ($input: ConfirmRevocationInput!) { confirmRevocation(input: $input) { credential { type } } }',
      { input: { requestId: challenge.requestId, signature: await laptop.sign(challenge.payloadToSign) } },
      { authorization: laptop.authorization },
    );
    expect(older.data?.confirmRevocation.credential.type).toBe('PASSKEY');
    expect(await t.db.prisma.credential.count({ where: { identifiers: { has: 'passkey-1' } } })).toBe(1);
    const late = await requestAdd(laptop, { type: 'OAUTH', identifiers: ['google:123'] });
    clock += 6 * 60_000;
    expect((await confirmWith(laptop, late)).errors?.[0]?.extensions?.code).toBe('CHALLENGE_EXPIRED');
  });

  it('names bad input, and makes an admin say whose credential it is', async () => {
    const empty = await t.graphql(add, { input: { type: 'PASSKEY', identifiers: [] } }, { authorization: laptop.authorization });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.identifiers' });
    const blank = await t.graphql(add, { input: { type: 'PASSKEY', identifiers: ['  '] } }, { authorization: laptop.authorization });
    expect(blank.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.identifiers[0]' });
    const admin = await t.graphql(add, { input: { type: 'PASSKEY', identifiers: ['x'] } });
    expect(admin.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.identityId' });
    const forAdmin = await t.graphql<Added>(add, { input: { type: 'PASSKEY', identifiers: ['admin-added'], identityId } });
    expect(forAdmin.data?.addCredential.challenge.type).toBe('PASSKEY');
  });
});
