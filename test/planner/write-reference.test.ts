// Random sequences of the hot writes — logins, token mints, activity, signed revocations, the clock
// moving on — run through the server (planned writes and the direct statements) on one database, and
// through a plain reference on a twin database: Prisma calls written here from the documented rules.
// After every sequence the two hold the same rows and the same events, and every payload the
// server answered is the one the reference expects.
import { p256 } from '@noble/curves/nist.js';
import fc from 'fast-check';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

const intervalSeconds = 300;

type Command =
  | { kind: 'login'; identity: number; type: 'PASSKEY' | 'PASSWORD'; nickname?: string; clientId?: string; devices: { userAgent?: string; ipAddress?: string }[]; methods: ('PASSWORD' | 'TOTP')[]; expiresInS?: number }
  | { kind: 'mint'; session: number; viaViewer: boolean }
  | { kind: 'touch'; session: number; userAgent?: string; ipAddress?: string; organizationId?: string }
  | { kind: 'revoke'; session: number }
  | { kind: 'wait'; seconds: number };

const maybe = <T,>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('login' as const), identity: fc.nat(2), type: fc.constantFrom('PASSKEY' as const, 'PASSWORD' as const), nickname: maybe(fc.constantFrom('laptop', 'phone')), clientId: maybe(fc.constantFrom('c1', 'c2')), devices: fc.array(fc.record({ userAgent: maybe(fc.constantFrom('Firefox', 'Safari')), ipAddress: maybe(fc.constantFrom('192.0.2.1', '2001:db8::1')) }), { maxLength: 2 }), methods: fc.subarray(['PASSWORD', 'TOTP'] as ('PASSWORD' | 'TOTP')[]), expiresInS: maybe(fc.integer({ min: 60, max: 3600 })) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mint' as const), session: fc.nat(20), viaViewer: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('touch' as const), session: fc.nat(20), userAgent: maybe(fc.constantFrom('Firefox', 'Safari')), ipAddress: maybe(fc.constantFrom('192.0.2.1', '192.0.2.9')), organizationId: maybe(fc.constantFrom('org_1', 'org_2')) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), session: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), seconds: fc.constantFrom(30, 200, 400, 3000) }) },
);

interface Known {
  server: string;
  reference: string;
  token: string;
  secretKey: Uint8Array;
}

describe.each(databaseTargets)('planned writes against a plain reference on $name', (target) => {
  let t: TestApp;
  let twin: TestDatabase;
  let clock = new Date('2026-06-01T08:00:00.000Z');
  const identities = [uuidv7(), uuidv7(), uuidv7()];

  beforeAll(async () => {
    // Confirmation limits off: the reference does not model them. Revoked sessions' tokens, used
    // again and again, are never counted as failed authentications, so those limits stay as shipped.
    t = await createTestApp(target, { now: () => clock, env: { EVENT_ACTIVITY_INTERVAL_SECONDS: String(intervalSeconds), RATE_LIMIT_CONFIRMATIONS: '100000' } });
    twin = await target.open();
    for (const prisma of [t.db.prisma, twin.db.prisma]) {
      for (const [i, id] of identities.entries()) await prisma.identity.create({ data: { id, traits: { n: i } } });
    }
  });
  afterAll(async () => {
    await twin.dispose();
    await t.dispose();
  });

  /** What the reference does for each command: the rules as README and docs/events.md state them, in Prisma calls. */
  async function reference(prisma: PrismaClient, c: Command, session: string | undefined, now: Date): Promise<unknown> {
    const recentEvent = (type: 'SESSION_ACTIVITY_RECORDED' | 'SESSION_TOKEN_ISSUED', id: string) =>
      prisma.sessionEvent.findFirst({ where: { sessionId: id, type, occurredAt: { gt: new Date(now.getTime() - intervalSeconds * 1000) } } });
    const activeRow = async (id: string) => {
      const row = await prisma.session.findUniqueOrThrow({ where: { id } });
      const lapsed = (row.expiresAt && row.expiresAt <= now) || (row.abandonAt && row.abandonAt <= now);
      return row.status === 'ACTIVE' && !lapsed ? row : null;
    };
    switch (c.kind) {
      case 'login': {
        const id = uuidv7();
        const methods = c.methods.map((method) => ({ method, aal: null, completedAt: now.toISOString(), provider: null, organization: null }));
        await prisma.session.create({
          data: {
            id, identityId: identities[c.identity]!, type: c.type, nickname: c.nickname, clientId: c.clientId, authenticationMethods: methods,
            expiresAt: c.expiresInS ? new Date(now.getTime() + c.expiresInS * 1000) : undefined, authenticatedAt: now, issuedAt: now, lastActiveAt: now,
            devices: { create: c.devices.map((d) => ({ userAgent: d.userAgent, ipAddress: d.ipAddress })) },
          },
        });
        await prisma.sessionEvent.create({ data: { type: 'SESSION_CREATED', identityId: identities[c.identity]!, sessionId: id, actorApiClientId: 'admin', ipAddress: 'unknown', details: { type: c.type, clientId: c.clientId ?? null }, occurredAt: now } });
        const payload = { type: c.type, nickname: c.nickname ?? null, status: 'ACTIVE', devices: [...c.devices].reverse().map((d) => ({ userAgent: d.userAgent ?? null, ipAddress: d.ipAddress ?? null })), authenticationMethods: c.methods.map((method) => ({ method })) };
        return { id, payload };
      }
      case 'mint': {
        const row = await activeRow(session!);
        if (!row) return { error: 'SESSION_NOT_ACTIVE' };
        // The token lives 60 s, or until its session ends (expires or is abandoned) if that is sooner; whole seconds.
        const ends = [new Date(now.getTime() + 60_000), row.expiresAt, row.abandonAt].filter((end): end is Date => end !== null);
        const expiresAt = new Date(Math.min(...ends.map((end) => Math.floor(end.getTime() / 1000) * 1000))).toISOString();
        if (!(await recentEvent('SESSION_TOKEN_ISSUED', row.id))) {
          await prisma.sessionEvent.create({ data: { type: 'SESSION_TOKEN_ISSUED', identityId: row.identityId, sessionId: row.id, actorSessionId: row.id, ipAddress: 'unknown', details: { template: null, expiresAt }, occurredAt: now } });
        }
        return { expiresAt };
      }
      case 'touch': {
        const row = await activeRow(session!);
        if (!row) return { error: 'BAD_USER_INPUT' };
        await prisma.session.update({ where: { id: row.id }, data: { lastActiveAt: now, ...(c.organizationId ? { lastActiveOrganizationId: c.organizationId } : {}) } });
        let deviceId: string | null = null;
        if (c.userAgent !== undefined || c.ipAddress !== undefined) {
          const known = await prisma.device.findFirst({ where: { sessionId: row.id, userAgent: c.userAgent ?? null, ipAddress: c.ipAddress ?? null }, orderBy: { lastSeenAt: 'desc' } });
          deviceId = known
            ? (await prisma.device.update({ where: { id: known.id }, data: { lastSeenAt: now } })).id
            : (await prisma.device.create({ data: { sessionId: row.id, userAgent: c.userAgent, ipAddress: c.ipAddress, firstSeenAt: now, lastSeenAt: now } })).id;
        }
        if (!(await recentEvent('SESSION_ACTIVITY_RECORDED', row.id))) {
          await prisma.sessionEvent.create({ data: { type: 'SESSION_ACTIVITY_RECORDED', identityId: row.identityId, sessionId: row.id, actorApiClientId: 'admin', ipAddress: 'unknown', details: { deviceId: deviceId && `Device:${deviceId}` }, occurredAt: now } });
        }
        return { lastActiveAt: now.toISOString(), device: c.userAgent !== undefined || c.ipAddress !== undefined };
      }
      case 'revoke': {
        const row = await prisma.session.findUniqueOrThrow({ where: { id: session! } });
        if (row.status !== 'ACTIVE') return { error: 'SESSION_ALREADY_REVOKED' };
        // Signed by the target's own key, which is only accepted while the target is active.
        if (!(await activeRow(row.id))) return { error: 'INVALID_SIGNATURE' };
        await prisma.session.update({ where: { id: row.id }, data: { status: 'REVOKED', revokedAt: now, revokedBySessionId: row.id } });
        await prisma.sessionEvent.create({ data: { type: 'SESSION_REVOKED', identityId: row.identityId, sessionId: row.id, actorSessionId: row.id, actorApiClientId: 'admin', ipAddress: 'unknown', occurredAt: now } });
        return { status: 'REVOKED' };
      }
      default:
        return undefined;
    }
  }

  /** The same command through the server's HTTP handler; its answer, reduced to what the reference predicts. */
  async function server(c: Command, known: Known | undefined): Promise<unknown> {
    const errorCode = (result: { errors?: { extensions?: { code?: string } }[] }) => result.errors?.[0]?.extensions?.code;
    switch (c.kind) {
      case 'login': {
        const secretKey = p256.utils.randomSecretKey();
        const result = await t.graphql<{ createSession: { session: Record<string, unknown> & { id: string }; sessionToken: string } }>(
          `mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id type nickname status devices { userAgent ipAddress } authenticationMethods { method } } sessionToken } }`,
          {
            input: {
              identityId: `Identity:${identities[c.identity]}`, type: c.type, nickname: c.nickname, clientId: c.clientId, clientPublicKey: p256.Point.fromBytes(p256.getPublicKey(secretKey, true)).toHex(true),
              devices: c.devices, authenticationMethods: c.methods.map((method) => ({ method })), expiresAt: c.expiresInS ? new Date(clock.getTime() + c.expiresInS * 1000).toISOString() : undefined,
            },
          },
        );
        expect(result.errors).toBeUndefined();
        const { id, ...payload } = result.data!.createSession.session;
        return { id: id.slice('Session:'.length), token: result.data!.createSession.sessionToken, secretKey, payload };
      }
      case 'mint': {
        const authorization = `Bearer ${known!.token}`;
        const result = c.viaViewer
          ? await t.graphql<{ viewer: { sessionToken: { expiresAt: string } } }>('{ viewer { sessionToken { expiresAt } } }', {}, { authorization })
          : await t.graphql<{ createSessionToken: { token: { expiresAt: string } } }>('mutation ($id: ID!) { createSessionToken(input: { sessionId: $id }) { token { expiresAt } } }', { id: `Session:${known!.server}` }, { authorization });
        // A session that no longer authenticates is refused before it can mint.
        if (result.errors) return { error: errorCode(result) === 'UNAUTHENTICATED' ? 'SESSION_NOT_ACTIVE' : errorCode(result) };
        const data = result.data as { viewer?: { sessionToken: { expiresAt: string } }; createSessionToken?: { token: { expiresAt: string } } };
        return { expiresAt: (data.viewer?.sessionToken ?? data.createSessionToken!.token).expiresAt };
      }
      case 'touch': {
        const result = await t.graphql<{ recordSessionActivity: { session: { lastActiveAt: string }; device: { id: string } | null } }>(
          'mutation ($input: RecordSessionActivityInput!) { recordSessionActivity(input: $input) { session { lastActiveAt } device { id } } }',
          { input: { sessionId: `Session:${known!.server}`, userAgent: c.userAgent, ipAddress: c.ipAddress, organizationId: c.organizationId } },
        );
        if (result.errors) return { error: errorCode(result) };
        return { lastActiveAt: result.data!.recordSessionActivity.session.lastActiveAt, device: result.data!.recordSessionActivity.device !== null };
      }
      case 'revoke': {
        const started = await t.graphql<{ revokeSession: { challenge: { requestId: string; payloadToSign: string } } }>(
          'mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId payloadToSign } } }',
          { id: `Session:${known!.server}` },
        );
        if (started.errors) return { error: errorCode(started) };
        const { requestId, payloadToSign } = started.data!.revokeSession.challenge;
        const signature = Buffer.from(p256.sign(Buffer.from(payloadToSign, 'base64'), known!.secretKey, { lowS: false })).toString('base64');
        const confirmed = await t.graphql<{ confirmRevocation: { session: { status: string } } }>(
          'mutation ($r: String!, $s: String!) { confirmRevocation(input: { requestId: $r, signature: $s }) { session { status } } }',
          { r: requestId, s: signature },
        );
        if (confirmed.errors) return { error: errorCode(confirmed) };
        return { status: confirmed.data!.confirmRevocation.session.status };
      }
      default:
        return undefined;
    }
  }

  /** Both databases' sessions, devices and events, with ids replaced by the session's place in the run. */
  async function snapshot(prisma: PrismaClient, order: string[]) {
    const place = (id: string | null) => (id === null ? null : order.indexOf(id));
    // A login's devices are first and last seen at the database's clock (both paths leave them to
    // the column's default), months after the test's clock.
    const seen = (at: Date) => (at.getTime() > Date.parse('2026-09-01') ? 'the database clock' : at.toISOString());
    const sessions = await prisma.session.findMany({ where: { id: { in: order } }, include: { devices: true } });
    const deviceIds = new Map(sessions.flatMap((s) => s.devices.map((d) => [d.id, `${place(s.id)}:${d.userAgent}:${d.ipAddress}:${seen(d.firstSeenAt)}`] as const)));
    const events = await prisma.sessionEvent.findMany({ where: { sessionId: { in: order } }, orderBy: { sequence: 'asc' } });
    return {
      sessions: sessions
        .map((s) => ({
          place: place(s.id), status: s.status, type: s.type, nickname: s.nickname, clientId: s.clientId, lastActiveAt: s.lastActiveAt, lastActiveOrganizationId: s.lastActiveOrganizationId,
          expiresAt: s.expiresAt, revokedAt: s.revokedAt, revokedBy: place(s.revokedBySessionId), authenticationMethods: s.authenticationMethods,
          devices: s.devices.map((d) => ({ userAgent: d.userAgent, ipAddress: d.ipAddress, lastSeenAt: seen(d.lastSeenAt) })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
        }))
        .sort((a, b) => a.place! - b.place!),
      events: events.map((e) => ({
        type: e.type, session: place(e.sessionId), actorSession: place(e.actorSessionId), actorApiClientId: e.actorApiClientId, occurredAt: e.occurredAt,
        details: JSON.parse(JSON.stringify(e.details ?? null).replace(/Device:([0-9a-f-]{36})/g, (_m, id: string) => `Device:${deviceIds.get(id)}`)),
      })),
    };
  }

  it('leaves the same rows and events, and answers what the reference expects', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 14 }), async (commands) => {
        const known: Known[] = [];
        for (const c of commands) {
          const session = c.kind !== 'login' && c.kind !== 'wait' ? known[c.session % Math.max(1, known.length)] : undefined;
          if (c.kind !== 'login' && c.kind !== 'wait' && !session) continue;
          if (c.kind === 'wait') {
            clock = new Date(clock.getTime() + c.seconds * 1000);
            continue;
          }
          const expected = await reference(twin.db.prisma, c, session?.reference, clock);
          const answered = await server(c, session);
          if (c.kind === 'login') {
            const made = answered as { id: string; token: string; secretKey: Uint8Array; payload: unknown };
            expect(made.payload).toEqual((expected as { payload: unknown }).payload);
            known.push({ server: made.id, reference: (expected as { id: string }).id, token: made.token, secretKey: made.secretKey });
          } else {
            expect(answered).toEqual(expected);
          }
        }
        expect(await snapshot(t.db.prisma, known.map((k) => k.server))).toEqual(await snapshot(twin.db.prisma, known.map((k) => k.reference)));
        clock = new Date(clock.getTime() + 3600_000);
      }),
      { numRuns: 15 },
    );
  });
});
