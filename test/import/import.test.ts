import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportError, importDocument } from '../../src/import/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { projectRoot } from '../support/process.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(projectRoot, 'test/fixtures', name), 'utf8'));

const sessionFields = `id externalSource externalId type nickname status active aal clientId actor lastActiveOrganizationId
  lastActiveAt issuedAt authenticatedAt createdAt updatedAt expiresAt abandonAt revokedAt tokenized
  authenticationMethods { method aal completedAt provider organization }
  devices { userAgent ipAddress location }
  identity { id externalSource externalId schemaId schemaUrl traits state stateChangedAt metadataPublic metadataAdmin organizationId
    credentials { type identifiers version externalId createdAt }
    verifiableAddresses { value via verified verifiedAt status externalId }
    recoveryAddresses { value via externalId } }`;

describe.each(databaseTargets)('importing vendor exports on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target);
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function sessionsOf(source: string) {
    const result = await t.graphql<{ sessions: { edges: { node: Record<string, unknown> }[] } }>(
      `query ($source: Vendor) { sessions(filter: { externalSource: $source }) { edges { node { ${sessionFields} } } } }`,
      { source },
    );
    expect(result.errors).toBeUndefined();
    return result.data!.sessions.edges.map((e) => e.node);
  }

  it("imports Grid's seed example as it stands; its session expired on 2026-04-09 and reads EXPIRED", async () => {
    const summary = await importDocument(t.db, 'GRID', fixture('grid-seed.json'));
    expect(summary).toMatchObject({ sessionsCreated: 1, identitiesCreated: 1 });
    const [session] = await sessionsOf('GRID');
    expect(session).toMatchObject({
      externalSource: 'GRID',
      externalId: 'Session:019542f5-b3e7-1d02-0000-000000000003',
      type: 'OAUTH',
      nickname: 'example@lightspark.com',
      status: 'EXPIRED',
      active: false,
      createdAt: '2026-04-08T15:30:01.000Z',
      updatedAt: '2026-04-08T15:35:00.000Z',
      expiresAt: '2026-04-09T15:30:01.000Z',
      identity: { externalSource: 'GRID', externalId: 'InternalAccount:019542f5-b3e7-1d02-0000-000000000002', traits: {} },
    });
    const stored = await t.db.prisma.session.findFirstOrThrow({
      where: { externalId: 'Session:019542f5-b3e7-1d02-0000-000000000003' },
      select: { encryptedSigningKey: true },
    });
    expect(stored.encryptedSigningKey).toMatch(/^w99a5xV6A75/);
  });

  it('imports a Kratos export losslessly: identity, credentials by type, addresses, devices, methods, unknown fields', async () => {
    const summary = await importDocument(t.db, 'KRATOS', fixture('kratos-sessions.json'));
    expect(summary).toMatchObject({ sessionsCreated: 2, identitiesCreated: 1 });
    const sessions = await sessionsOf('KRATOS');
    const active = sessions.find((s) => s.externalId === '4a1c2e3f-5b6d-4e7f-8a9b-0c1d2e3f4a5b')!;
    expect(active).toMatchObject({
      status: 'ACTIVE',
      active: true,
      aal: 'AAL2',
      issuedAt: '2026-11-20T09:00:00.000Z',
      authenticatedAt: '2026-11-20T09:00:00.000Z',
      tokenized: 'eyJhbGciOiJFUzI1NiJ9.eyJzaWQiOiI0YTFjIn0.c2ln',
      authenticationMethods: [
        { method: 'PASSWORD', aal: 'AAL1', completedAt: '2026-11-20T09:00:00.000Z', provider: null, organization: null },
        { method: 'WEBAUTHN', aal: 'AAL2', completedAt: '2026-11-20T09:00:30.000Z', provider: null, organization: null },
      ],
      devices: [{ userAgent: expect.stringContaining('Safari/17.5'), ipAddress: '203.0.113.10', location: 'London, GB' }],
    });
    expect(active.identity).toMatchObject({
      externalId: '7f3b5d0e-2a61-4c1e-9a8b-5d2f0c4e6a11',
      schemaId: 'customer',
      traits: { email: 'lovelace@example.com', name: { first: 'Ada', last: 'Lovelace' } },
      state: 'ACTIVE',
      metadataAdmin: { support_tier: 2 },
      credentials: [
        { type: 'PASSWORD', identifiers: ['lovelace@example.com'], version: 0, externalId: 'password' },
        { type: 'OIDC', identifiers: ['google:108234567890123456789'], version: 0, externalId: 'oidc' },
        { type: 'WEBAUTHN', identifiers: ['b3BhcXVlLXVzZXItaGFuZGxl'], version: 1, externalId: 'webauthn' },
      ],
      verifiableAddresses: [{ value: 'lovelace@example.com', via: 'email', verified: true, status: 'completed' }],
      recoveryAddresses: [{ value: 'lovelace@example.com', via: 'email' }],
    });
    const inactive = sessions.find((s) => s.externalId === '5b2d3f40-6c7e-4f80-9bac-1d2e3f405b6c')!;
    expect(inactive).toMatchObject({ status: 'REVOKED', active: false, authenticationMethods: [{ method: 'OIDC', provider: 'google' }] });
    // Both sessions share one identity; the secret config and the unknown field are kept, not shown.
    expect(inactive.identity).toEqual(active.identity);
    const stored = await t.db.prisma.session.findFirstOrThrow({ where: { externalId: '5b2d3f40-6c7e-4f80-9bac-1d2e3f405b6c' }, select: { vendorExtra: true } });
    expect(stored.vendorExtra).toEqual({ kratos_future_field: { kept: true } });
    const password = await t.db.prisma.credential.findFirstOrThrow({ where: { externalId: 'password' }, select: { config: true } });
    expect(password.config).toEqual({ hashed_password: expect.stringMatching(/^\$argon2id/) });
  });

  it('imports a Clerk list with Unix millisecond times, actors, statuses and the latest activity as a device', async () => {
    const summary = await importDocument(t.db, 'CLERK', fixture('clerk-sessions.json'));
    expect(summary).toMatchObject({ sessionsCreated: 3, identitiesCreated: 2 });
    const sessions = await sessionsOf('CLERK');
    const active = sessions.find((s) => s.externalId === 'sess_2pQmW8xYzA1bC3dE4fG5hI6jK7')!;
    expect(active).toMatchObject({
      status: 'ACTIVE',
      clientId: 'client_2pQmU9zYxW8vU7tS6rQ5pO4nM3',
      lastActiveOrganizationId: 'org_2pQmT8sRqP7oN6mL5kJ4iH3gF2',
      lastActiveAt: new Date(1795300000000).toISOString(),
      createdAt: new Date(1795200000000).toISOString(),
      expiresAt: new Date(4102444800000).toISOString(),
      abandonAt: new Date(4105036800000).toISOString(),
      devices: [{ userAgent: 'Firefox 132.0', ipAddress: '192.0.2.44', location: 'Zurich, CH' }],
      identity: { externalSource: 'CLERK', externalId: 'user_2pQmV1aBcD2eF3gH4iJ5kL6mN7' },
    });
    const revoked = sessions.find((s) => s.externalId === 'sess_2pQmR6qPoN5mL4kJ3iH2gF1eD0')!;
    expect(revoked).toMatchObject({
      status: 'REVOKED',
      actor: { sub: 'user_2pQmP4oNmL3kJ2iH1gF0eD9cB8', iss: 'https://dashboard.clerk.com' },
      revokedAt: new Date(1790500000000).toISOString(),
    });
    expect(sessions.find((s) => s.externalId === 'sess_2pQmO3nMlK2jI1hG0fE9dC8bA7')).toMatchObject({ status: 'ENDED' });
    const stored = await t.db.prisma.session.findFirstOrThrow({ where: { externalId: 'sess_2pQmR6qPoN5mL4kJ3iH2gF1eD0' }, select: { vendorExtra: true } });
    expect(stored.vendorExtra).toEqual({ tasks: [{ key: 'choose-organization' }] });
  });

  it('is idempotent: importing the same files again updates and never duplicates', async () => {
    const before = {
      identities: await t.db.prisma.identity.count(),
      sessions: await t.db.prisma.session.count(),
      devices: await t.db.prisma.device.count(),
      credentials: await t.db.prisma.credential.count(),
      addresses: await t.db.prisma.verifiableAddress.count(),
    };
    for (const [source, file] of [['GRID', 'grid-seed.json'], ['KRATOS', 'kratos-sessions.json'], ['CLERK', 'clerk-sessions.json']] as const) {
      const summary = await importDocument(t.db, source, fixture(file));
      expect(summary.sessionsCreated).toBe(0);
      expect(summary.identitiesCreated).toBe(0);
    }
    expect({
      identities: await t.db.prisma.identity.count(),
      sessions: await t.db.prisma.session.count(),
      devices: await t.db.prisma.device.count(),
      credentials: await t.db.prisma.credential.count(),
      addresses: await t.db.prisma.verifiableAddress.count(),
    }).toEqual(before);
  });

  it.each([
    ['KRATOS', 'kratos-seed.json', /^\[0\]\.id: "<uuid>" is a documentation placeholder/],
    ['CLERK', 'clerk-seed.json', /^\[0\]\.id: expected a Clerk id "sess_…", got "string"/],
  ] as const)('refuses the %s seed example (placeholders), naming the first bad field', async (source, file, message) => {
    const error = await importDocument(t.db, source, fixture(file)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect((error as Error).message).toMatch(message);
  });

  it('takes a bare Grid list and a single Clerk session object too', async () => {
    const grid = (fixture('grid-seed.json') as { data: Record<string, unknown>[] }).data.map((s) => ({
      ...s,
      id: 'Session:019542f5-b3e7-1d02-0000-0000000000aa',
      expiresAt: '2099-01-01T00:00:00Z',
    }));
    expect(await importDocument(t.db, 'GRID', grid)).toMatchObject({ sessionsCreated: 1, identitiesCreated: 0 });
    const clerk = { ...(fixture('clerk-sessions.json') as { data: Record<string, unknown>[] }).data[0], id: 'sess_singleobject1' };
    expect(await importDocument(t.db, 'CLERK', clerk)).toMatchObject({ sessionsCreated: 1, identitiesCreated: 0 });
    const [session] = await t.db.prisma.session.findMany({ where: { externalId: 'Session:019542f5-b3e7-1d02-0000-0000000000aa' } });
    expect(session?.status).toBe('ACTIVE');
  });

  it('writes nothing when one record is bad, and names that record and field', async () => {
    const sessions: Record<string, unknown>[] = (fixture('clerk-sessions.json') as { data: Record<string, unknown>[] }).data.map(
      (s, i) => ({ ...s, id: `sess_allornothing${i}` }),
    );
    sessions[2] = { ...sessions[2], expire_at: 0 };
    const before = await t.db.prisma.session.count();
    await expect(importDocument(t.db, 'CLERK', sessions)).rejects.toThrow(/^\[2\]\.expire_at: 0 is not a plausible Unix time/);
    expect(await t.db.prisma.session.count()).toBe(before);
  });

  it('importSessions does the same through GraphQL, with BAD_USER_INPUT naming the field', async () => {
    const mutation = `mutation ($input: ImportSessionsInput!) {
      importSessions(input: $input) { sessionsCreated sessionsUpdated identitiesCreated sessions { externalId status } }
    }`;
    const ok = await t.graphql(mutation, { input: { from: 'GRID', document: fixture('grid-seed.json') } });
    expect(ok).toEqual({
      data: {
        importSessions: {
          sessionsCreated: 0,
          sessionsUpdated: 1,
          identitiesCreated: 0,
          sessions: [{ externalId: 'Session:019542f5-b3e7-1d02-0000-000000000003', status: 'EXPIRED' }],
        },
      },
    });
    const bad = await t.graphql(mutation, { input: { from: 'KRATOS', document: fixture('kratos-seed.json') } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.document.[0].id' });
  });
});
