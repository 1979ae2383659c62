import { p256 } from '@noble/curves/nist.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';

const createIdentity = `mutation ($input: CreateIdentityInput!) {
  createIdentity(input: $input) {
    identity { id traits state metadataPublic metadataAdmin organizationId
      verifiableAddresses { value via verified status } recoveryAddresses { value via } }
  }
}`;

const createSession = `mutation ($input: CreateSessionInput!) {
  createSession(input: $input) {
    session { id type nickname status active aal clientId actor expiresAt signingPublicKey
      identity { id }
      authenticationMethods { method aal provider completedAt }
      devices { userAgent ipAddress location } }
  }
}`;

describe.each(databaseTargets)('mutations on $name', (target) => {
  let t: TestApp;
  let identityId: string;
  beforeAll(async () => {
    t = await createTestApp(target);
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function counts() {
    return {
      identities: await t.db.prisma.identity.count(),
      sessions: await t.db.prisma.session.count(),
      devices: await t.db.prisma.device.count(),
    };
  }

  it('createIdentity stores the identity with its addresses', async () => {
    const result = await t.graphql<{ createIdentity: { identity: Record<string, unknown> & { id: string } } }>(createIdentity, {
      input: {
        traits: { email: 'grace@example.com', name: { first: 'Grace' } },
        metadataPublic: { plan: 'pro' },
        metadataAdmin: { risk: 'low' },
        organizationId: 'org_42',
        verifiableAddresses: [{ value: 'grace@example.com', via: 'email', verified: true }],
        recoveryAddresses: [{ value: 'grace@example.com', via: 'EMAIL' }],
      },
    });
    expect(result.errors).toBeUndefined();
    const identity = result.data!.createIdentity.identity;
    identityId = identity.id;
    expect(identity).toEqual({
      id: expect.stringMatching(/^Identity:[0-9a-f-]{36}$/),
      traits: { email: 'grace@example.com', name: { first: 'Grace' } },
      state: 'ACTIVE',
      metadataPublic: { plan: 'pro' },
      metadataAdmin: { risk: 'low' },
      organizationId: 'org_42',
      verifiableAddresses: [{ value: 'grace@example.com', via: 'email', verified: true, status: 'completed' }],
      recoveryAddresses: [{ value: 'grace@example.com', via: 'email' }],
    });
  });

  it('createSession stores the session, its methods, devices and compressed public key', async () => {
    const key = p256.getPublicKey(p256.utils.randomSecretKey(), true); // compressed: the client keeps its key
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const result = await t.graphql<{ createSession: { session: Record<string, unknown> } }>(createSession, {
      input: {
        identityId,
        type: 'PASSKEY',
        nickname: 'Grace’s phone',
        expiresAt,
        clientId: 'client_1',
        actor: { sub: 'user_admin' },
        aal: 'AAL2',
        authenticationMethods: [{ method: 'PASSKEY', aal: 'AAL2' }, { method: 'OIDC', provider: 'google' }],
        devices: [{ userAgent: 'Safari/17', ipAddress: '2001:db8::1', location: 'Lisbon, PT' }],
        clientPublicKey: Buffer.from(key).toString('hex'),
      },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!.createSession.session).toEqual({
      id: expect.stringMatching(/^Session:/),
      type: 'PASSKEY',
      nickname: 'Grace’s phone',
      status: 'ACTIVE',
      active: true,
      aal: 'AAL2',
      clientId: 'client_1',
      actor: { sub: 'user_admin' },
      expiresAt,
      signingPublicKey: Buffer.from(key).toString('hex'),
      identity: { id: identityId },
      authenticationMethods: [
        { method: 'PASSKEY', aal: 'AAL2', provider: null, completedAt: expect.any(String) },
        { method: 'OIDC', aal: null, provider: 'google', completedAt: expect.any(String) },
      ],
      devices: [{ userAgent: 'Safari/17', ipAddress: '2001:db8::1', location: 'Lisbon, PT' }],
    });
  });

  it.each([
    [{ identityId: 'Identity:0195f000-0000-7000-8000-000000000000' }, 'input.identityId', /no identity/],
    [{ expiresAt: '2020-01-01T00:00:00Z' }, 'input.expiresAt', /must be in the future/],
    [{ clientPublicKey: '02' + 'ff'.repeat(32) }, 'input.clientPublicKey', /not a point on the P-256 curve/],
    [{ clientPublicKey: 'hello' }, 'input.clientPublicKey', /must be a P-256 public key in hex/],
    [{ actor: ['not', 'an', 'object'] }, 'input.actor', /must be a JSON object/],
    [{ devices: [{ ipAddress: 'not-an-ip' }] }, 'input.devices[0].ipAddress', /IPv4 or IPv6/],
  ])('createSession refuses %j naming %s and writes nothing', async (change, field, message) => {
    const before = await counts();
    const result = await t.graphql(createSession, { input: { identityId, type: 'OAUTH', devices: [{ userAgent: 'x' }], ...change } });
    expect(result.errors?.[0]?.message).toMatch(message);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await counts()).toEqual(before);
  });

  it('refuses an unknown enum value with BAD_USER_INPUT naming the field', async () => {
    const result = await t.graphql(createSession, { input: { identityId, type: 'CARRIER_PIGEON' } });
    expect(result.errors?.[0]?.message).toMatch(/input\.type/);
    expect(result.errors?.[0]?.message).toMatch(/CARRIER_PIGEON/);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('createIdentity refuses traits that are not an object', async () => {
    const result = await t.graphql(createIdentity, { input: { traits: 'grace' } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.traits' });
  });

  it('recordSessionActivity touches the session and upserts its device by user agent and IP', async () => {
    const session = await t.db.prisma.session.create({
      data: { identityId: identityId.slice('Identity:'.length), lastActiveAt: new Date(Date.UTC(2026, 0, 1)) },
    });
    const touch = `mutation ($input: RecordSessionActivityInput!) {
      recordSessionActivity(input: $input) { session { lastActiveAt lastActiveOrganizationId devices { id userAgent ipAddress location } } device { id lastSeenAt } }
    }`;
    const input = { sessionId: `Session:${session.id}`, userAgent: 'Chrome/130', ipAddress: '198.51.100.7', location: 'Oslo, NO' };
    const first = await t.graphql<{ recordSessionActivity: { session: { lastActiveAt: string; devices: { id: string }[] }; device: { id: string } } }>(touch, { input });
    expect(first.errors).toBeUndefined();
    const touched = first.data!.recordSessionActivity;
    expect(new Date(touched.session.lastActiveAt).getTime()).toBeGreaterThan(Date.UTC(2026, 0, 1));
    expect(touched.session.devices).toHaveLength(1);

    const again = await t.graphql<typeof first.data>(touch, { input: { ...input, organizationId: 'org_9' } });
    expect(again.data!.recordSessionActivity.device.id).toBe(touched.device.id);
    expect(again.data!.recordSessionActivity.session).toMatchObject({ lastActiveOrganizationId: 'org_9', devices: [{ id: touched.device.id }] });

    const otherIp = await t.graphql<typeof first.data>(touch, { input: { ...input, ipAddress: '198.51.100.8' } });
    expect(otherIp.data!.recordSessionActivity.session.devices).toHaveLength(2);
  });

  it('recordSessionActivity from ten requests at once records one device', async () => {
    const session = await t.db.prisma.session.create({ data: { identityId: identityId.slice('Identity:'.length) } });
    const touch = `mutation ($input: RecordSessionActivityInput!) { recordSessionActivity(input: $input) { device { id } } }`;
    const input = { sessionId: `Session:${session.id}`, userAgent: 'Edge/131', ipAddress: '203.0.113.99' };
    const results = await Promise.all(Array.from({ length: 10 }, () => t.graphql(touch, { input })));
    expect(results.every((r) => !r.errors)).toBe(true);
    expect(await t.db.prisma.device.count({ where: { sessionId: session.id } })).toBe(1);
  });

  it('recordSessionActivity refuses a session that no longer authenticates', async () => {
    const session = await t.db.prisma.session.create({
      data: { identityId: identityId.slice('Identity:'.length), expiresAt: new Date(Date.now() - 1000) },
    });
    const result = await t.graphql(`mutation ($input: RecordSessionActivityInput!) { recordSessionActivity(input: $input) { session { id } } }`, {
      input: { sessionId: `Session:${session.id}`, userAgent: 'x' },
    });
    expect(result.errors?.[0]?.message).toMatch(/is EXPIRED, not ACTIVE/);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await t.db.prisma.device.count({ where: { sessionId: session.id } })).toBe(0);
  });
});
