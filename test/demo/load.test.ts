// npm run demo's sample: every vendor, every status, devices and methods, a signed revocation with
// its signer — and loading it twice adds nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSignerEmail, loadDemo } from '../../src/demo/load.js';
import { createTestApp, testConfig, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';

describe.each(databaseTargets)('the demo sample on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('covers the three vendors and every status, with a signed revocation, idempotently', async () => {
    const first = await loadDemo(t.db, testConfig());
    expect(first.signedRevocation).toBe(true);
    expect(first.backendTemplate).toBe(true);
    const counts = async () => ({
      identities: await t.db.prisma.identity.count(),
      sessions: await t.db.prisma.session.count(),
      devices: await t.db.prisma.device.count(),
    });
    // A demo session signed out since the first load stays signed out.
    const imported = await t.db.prisma.session.findFirstOrThrow({ where: { externalSource: 'KRATOS', status: 'ACTIVE' }, select: { id: true } });
    const { revokedAt } = await t.db.prisma.session.update({ where: { id: imported.id }, data: { status: 'REVOKED', revokedAt: new Date() } });
    const before = await counts();
    const second = await loadDemo(t.db, testConfig());
    expect(second.imported.KRATOS).toMatchObject({ sessionsCreated: 0, sessionsUpdated: 0, sessionsKept: first.imported.KRATOS.sessionsCreated });
    expect(await t.db.prisma.session.findUniqueOrThrow({ where: { id: imported.id } })).toMatchObject({ status: 'REVOKED', revokedAt });
    expect(second.signedRevocation).toBe(false);
    expect(second.backendTemplate).toBe(false);
    expect(await t.db.prisma.jwtTemplate.count({ where: { name: 'backend' } })).toBe(1);
    expect(await counts()).toEqual(before);

    const read = await t.graphql<{ sessions: { edges: { node: { status: string; externalSource: string | null; devices: unknown[]; authenticationMethods: unknown[] } }[] } }>(
      '{ sessions(first: 100) { edges { node { status externalSource devices { userAgent } authenticationMethods { method } } } } }',
    );
    const nodes = read.data!.sessions.edges.map((e) => e.node);
    expect(new Set(nodes.map((n) => n.status))).toEqual(new Set(['ACTIVE', 'REVOKED', 'ENDED', 'EXPIRED', 'REMOVED', 'ABANDONED', 'REPLACED', 'PENDING']));
    expect(new Set(nodes.map((n) => n.externalSource))).toEqual(new Set(['GRID', 'KRATOS', 'CLERK', null]));
    expect(nodes.some((n) => n.devices.length > 1)).toBe(true);
    expect(nodes.some((n) => n.authenticationMethods.length > 1)).toBe(true);

    const signer = await t.db.prisma.identity.findFirstOrThrow({ where: { traits: { path: ['email'], equals: demoSignerEmail } }, include: { sessions: true } });
    const revoked = signer.sessions.find((s) => s.status === 'REVOKED')!;
    const laptop = signer.sessions.find((s) => s.status === 'ACTIVE')!;
    expect(revoked.revokedBySessionId).toBe(laptop.id);
  });
});
