// The session lookup every session request makes runs straight to the driver; what it returns must
// be exactly what Prisma returns for the same row — every column, the same types — or the loaders
// it primes would hand resolvers something else. A column added to the schema and not to the
// lookup fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/auth/secrets.js';
import { sessionById, sessionByTokenHash } from '../../src/auth/session-rows.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

describe.each(databaseTargets)('session rows on $name', (target) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await target.open();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('reads a session and its identity exactly as Prisma does, by token hash and by id', async () => {
    const identity = await t.db.prisma.identity.create({
      data: { traits: { email: 'rows@example.com', n: [1, 2] }, schemaId: 'default', state: 'ACTIVE', stateChangedAt: new Date(), metadataPublic: { a: 1 }, metadataAdmin: { b: 2 }, organizationId: 'org_1', externalSource: 'KRATOS', externalId: 'k-1' },
    });
    const tokenHash = Uint8Array.from(sha256('sgs_rows-test'));
    const created = await t.db.prisma.session.create({
      data: {
        identityId: identity.id, type: 'PASSKEY', nickname: 'phone', aal: 'AAL2', clientId: 'client_1', actor: { sub: 'user_9' },
        authenticationMethods: [{ method: 'PASSWORD', aal: 'AAL1', completedAt: '2026-01-01T00:00:00.000Z' }],
        lastActiveOrganizationId: 'org_1', lastActiveAt: new Date(), authenticatedAt: new Date(), expiresAt: new Date(Date.now() + 60_000),
        abandonAt: new Date(Date.now() + 30_000), revocationReason: 'none yet', signingPublicKey: Uint8Array.from([2, ...new Array(32).fill(7)]),
        tokenized: 'eyJ.x.y', tokenHash, externalSource: 'KRATOS', externalId: 'ks-1', encryptedSigningKey: 'sealed', vendorExtra: { secret: true },
      },
    });
    const prismas = await t.db.prisma.session.findUnique({ where: { tokenHash }, include: { identity: true } });
    expect(await sessionByTokenHash(t.db.read, tokenHash)).toEqual(prismas);
    expect(await sessionById(t.db.read, created.id)).toEqual(prismas);
    // Nothing Prisma's omit keeps back comes through.
    expect(JSON.stringify(await sessionById(t.db.read, created.id))).not.toMatch(/sealed|secret/);
    expect(await sessionByTokenHash(t.db.read, Uint8Array.from(sha256('unknown')))).toBeNull();
  });
});
