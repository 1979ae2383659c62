// Webhook delivery end to end, in process: GraphQL through yoga.fetch, the dispatcher on the app's
// event feed, the worker sending over real HTTP to receivers on 127.0.0.1, verified with the
// standardwebhooks and svix packages.
import { verifyWebhook } from '@clerk/backend/webhooks';
import type { ServerResponse } from 'node:http';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { sendTestWebhook } from '../../src/webhooks/endpoints.js';
import { purgeWebhookDeliveries, startWebhooks, type WebhookRuntime } from '../../src/webhooks/index.js';
import { createTestApp, testConfig, testTokenKeySecret, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { headerRecord, startReceiver, type Receiver } from '../support/receiver.js';
import { createBrowserSession, createIdentity } from '../support/sessions.js';
import { createEndpoint, deliveriesOf, eventually, revoke } from '../support/webhooks.js';

const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms,100ms', WEBHOOK_TIMEOUT_SECONDS: '3', WEBHOOK_ENDPOINT_CONCURRENCY: '2', EVENT_POLL_MS: '100' };

describe.each(databaseTargets)('webhooks on $name', (target) => {
  let t: TestApp;
  let runtime: WebhookRuntime;
  let metrics: Metrics;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const started = await startReceiver();
    receivers.push(started);
    return started;
  };
  const start = () => startWebhooks({ prisma: t.db.prisma, feed: t.events, config: testConfig(env), keySecret: testTokenKeySecret, logger: createLogger('info', (line) => t.logs.push(JSON.parse(line))), metrics });

  beforeAll(async () => {
    t = await createTestApp(target, { env });
    metrics = createMetrics();
    runtime = await start();
  });
  afterAll(async () => {
    await runtime?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await t?.dispose();
  });

  it('delivers a committed revocation, signed per Standard Webhooks, to the endpoints that asked for it', async () => {
    const hooks = await receiver();
    const { id: endpointId, secret } = await createEndpoint(t, { url: hooks.url, eventTypes: ['SESSION_REVOKED'], description: 'cache invalidation' });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const identityId = await createIdentity(t);
    const session = await createBrowserSession(t, identityId);
    await revoke(t, session.id);
    // Refused (already revoked): rolled back, no event, nothing sent.
    const again = await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: session.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('SESSION_ALREADY_REVOKED');
    const [request] = await hooks.waitFor(1);
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hooks');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    const verified = new StandardWebhook(secret).verify(request!.body, headerRecord(request!)) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(() => new SvixWebhook(secret).verify(request!.body, headerRecord(request!))).not.toThrow();
    expect(verified).toEqual({
      type: 'session.revoked',
      timestamp: expect.any(String),
      data: expect.objectContaining({ type: 'SESSION_REVOKED', identityId, sessionId: session.id, id: expect.stringMatching(/^SessionEvent:/) }),
    });
    // A wrong secret or a changed body does not verify.
    expect(() => new StandardWebhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(request!.body, headerRecord(request!))).toThrow();
    expect(() => new StandardWebhook(secret).verify(request!.body.replace('revoked', 'created'), headerRecord(request!))).toThrow();
    const [delivery] = await eventually(async () => {
      const found = await deliveriesOf(t, endpointId);
      expect(found[0]?.state).toBe('SUCCEEDED');
      return found;
    });
    expect(delivery).toMatchObject({ type: 'session.revoked', attempts: 1, lastStatusCode: 200, lastResponseBody: 'ok', nextAttemptAt: null, event: { id: verified.data.id, type: 'SESSION_REVOKED' } });
    expect(delivery!.webhookId).toBe(request!.headers['webhook-id']);
    // Only what it asked for: the session's creation went nowhere.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hooks.requests).toHaveLength(1);
  });

  it('delivers Clerk\'s session webhooks in Svix\'s format, which @clerk/backend\'s verifyWebhook accepts', async () => {
    const hooks = await receiver();
    const { secret } = await createEndpoint(t, { url: hooks.url, eventTypes: ['SESSION_CREATED', 'SESSION_REVOKED'], format: 'CLERK' });
    const identityId = await createIdentity(t);
    const session = await createBrowserSession(t, identityId);
    await revoke(t, session.id);
    const requests = await hooks.waitFor(2);
    const events = [];
    for (const request of requests) {
      expect(request.headers['webhook-id']).toBeUndefined();
      expect(request.headers['svix-id']).toMatch(/^msg_[0-9a-f]{32}$/);
      const delivered = new Request(`http://127.0.0.1${request.path}`, { method: 'POST', headers: headerRecord(request), body: request.body });
      events.push(await verifyWebhook(delivered, { signingSecret: secret }));
      expect(() => new SvixWebhook(secret).verify(request.body, headerRecord(request))).not.toThrow();
    }
    const byType = Object.fromEntries(events.map((event) => [event.type, event]));
    expect(Object.keys(byType).sort()).toEqual(['session.created', 'session.revoked']);
    expect(byType['session.revoked']).toMatchObject({
      object: 'event',
      timestamp: expect.any(Number),
      data: { object: 'session', id: session.id, user_id: identityId, status: 'revoked', expire_at: expect.any(Number) },
    });
    // A forged request does not pass.
    const forged = new Request('http://127.0.0.1/hooks', { method: 'POST', headers: headerRecord(requests[0]!), body: requests[0]!.body.replace('session', 'user') });
    await expect(verifyWebhook(forged, { signingSecret: secret })).rejects.toThrow();
  });

  it('retries a failing receiver with the same webhook id until it answers 2xx, then never again', async () => {
    const hooks = await receiver();
    hooks.respond = (request, res) => res.writeHead(hooks.requests.indexOf(request) < 2 ? 500 : 204).end();
    const { id: endpointId, secret } = await createEndpoint(t, { url: hooks.url, eventTypes: ['SESSION_CREATED'] });
    const session = await createBrowserSession(t, await createIdentity(t));
    const requests = await hooks.waitFor(3);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const request of requests) expect(new StandardWebhook(secret).verify(request.body, headerRecord(request))).toMatchObject({ data: { sessionId: session.id } });
    // The body is the same bytes each time; the schedule's waits (100 ms) lie between the attempts.
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(90);
    await eventually(async () => expect((await deliveriesOf(t, endpointId))[0]).toMatchObject({ state: 'SUCCEEDED', attempts: 3, lastStatusCode: 204 }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hooks.requests).toHaveLength(3);
  });

  it('gives up when the schedule runs out, and replays a delivery on demand with its webhook id', async () => {
    const hooks = await receiver();
    // What PostgreSQL cannot store as text (NUL, half a surrogate pair where it is cut) is replaced.
    hooks.respond = (_request, res) => res.writeHead(503).end(`\u0000${'😀'.repeat(5000)}`);
    const { id: endpointId, secret } = await createEndpoint(t, { url: hooks.url, eventTypes: ['SESSION_CREATED'] });
    await createBrowserSession(t, await createIdentity(t));
    const [failed] = await eventually(async () => {
      const found = await deliveriesOf(t, endpointId);
      expect(found[0]).toMatchObject({ state: 'FAILED', attempts: 3, lastStatusCode: 503, nextAttemptAt: null });
      return found;
    });
    expect(failed!.lastResponseBody).toBe(`\uFFFD${'😀'.repeat(1023)}\uFFFD`); // stored truncated to 2048 UTF-16 units
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hooks.requests).toHaveLength(3);
    hooks.respond = (_request, res) => res.writeHead(200).end();
    const replayed = await t.graphql<{ replayWebhookDelivery: { delivery: { state: string } } }>(
      'mutation ($id: ID!) { replayWebhookDelivery(input: { deliveryId: $id }) { delivery { state } } }',
      { id: failed!.id },
    );
    expect(replayed.data?.replayWebhookDelivery.delivery.state).toBe('PENDING');
    const requests = await hooks.waitFor(4);
    expect(requests[3]!.headers['webhook-id']).toBe(requests[0]!.headers['webhook-id']);
    expect(() => new StandardWebhook(secret).verify(requests[3]!.body, headerRecord(requests[3]!))).not.toThrow();
    await eventually(async () => expect((await deliveriesOf(t, endpointId))[0]).toMatchObject({ state: 'SUCCEEDED', attempts: 4 }));
  });

  it('follows no redirect, and does not wait past the timeout for a receiver that never answers', async () => {
    const target = await receiver();
    const redirecting = await receiver();
    redirecting.respond = (_request, res) => res.writeHead(307, { location: target.url }).end();
    const silent = await receiver();
    silent.respond = () => {}; // never answers
    const redirected = await createEndpoint(t, { url: redirecting.url, eventTypes: ['IDENTITY_CREATED'] });
    const hanging = await createEndpoint(t, { url: silent.url, eventTypes: ['IDENTITY_CREATED'] });
    await createIdentity(t);
    await eventually(async () => expect((await deliveriesOf(t, redirected.id))[0]).toMatchObject({ state: 'FAILED', attempts: 3, lastStatusCode: 307 }));
    expect(target.requests).toHaveLength(0);
    const [timedOut] = await eventually(async () => {
      const found = await deliveriesOf(t, hanging.id);
      expect(found[0]).toMatchObject({ state: 'FAILED', attempts: 3, lastStatusCode: null, lastError: 'no answer within 3000 ms' });
      return found;
    }, 40_000);
    expect(timedOut!.lastDurationMs).toBeGreaterThanOrEqual(2950);
    expect(timedOut!.lastDurationMs).toBeLessThan(6000);
  });

  it('keeps a slow receiver to WEBHOOK_ENDPOINT_CONCURRENCY attempts at once', async () => {
    const hooks = await receiver();
    const held: ServerResponse[] = [];
    let holding = true;
    hooks.respond = (_request, res) => (holding ? held.push(res) : res.writeHead(200).end());
    await createEndpoint(t, { url: hooks.url, eventTypes: ['IDENTITY_CREATED'] });
    // Six deliveries queued at once (committed while no dispatcher ran): a claim could take them all.
    await runtime.stop();
    try {
      for (let i = 0; i < 6; i++) await createIdentity(t);
    } finally {
      runtime = await start();
    }
    await hooks.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hooks.requests).toHaveLength(2);
    holding = false;
    for (const res of held) res.writeHead(200).end();
    await eventually(async () => expect(new Set(hooks.requests.map((r) => r.headers['webhook-id'])).size).toBe(6));
  });

  it('signs with both secrets while a rotated-out one overlaps, and with the new one alone after', async () => {
    const hooks = await receiver();
    const { id: endpointId, secret: oldSecret } = await createEndpoint(t, { url: hooks.url, eventTypes: ['IDENTITY_CREATED'] });
    const rotated = await t.graphql<{ rotateWebhookSecret: { secret: string; endpoint: { previousSecretExpiresAt: string } } }>(
      'mutation ($id: ID!) { rotateWebhookSecret(input: { endpointId: $id }) { secret endpoint { previousSecretExpiresAt } } }',
      { id: endpointId },
    );
    expect(rotated.errors).toBeUndefined();
    const newSecret = rotated.data!.rotateWebhookSecret.secret;
    expect(newSecret).not.toBe(oldSecret);
    expect(Date.parse(rotated.data!.rotateWebhookSecret.endpoint.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    await createIdentity(t);
    const [during] = await hooks.waitFor(1);
    expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      expect(() => new StandardWebhook(secret).verify(during!.body, headerRecord(during!))).not.toThrow();
      expect(() => new SvixWebhook(secret).verify(during!.body, headerRecord(during!))).not.toThrow();
    }
    // The overlap is over: the old secret no longer signs.
    await t.db.prisma.webhookEndpoint.update({ where: { id: endpointId.split(':')[1]! }, data: { previousSecretUntil: new Date(Date.now() - 1000) } });
    await createIdentity(t);
    const [, after] = await hooks.waitFor(2);
    expect(String(after!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new StandardWebhook(newSecret).verify(after!.body, headerRecord(after!))).not.toThrow();
    expect(() => new StandardWebhook(oldSecret).verify(after!.body, headerRecord(after!))).toThrow();
  });

  it('disables an endpoint that has failed for WEBHOOK_DISABLE_AFTER, and records why', async () => {
    const hooks = await receiver();
    hooks.respond = (_request, res) => res.writeHead(500).end();
    const { id: endpointId } = await createEndpoint(t, { url: hooks.url, eventTypes: ['IDENTITY_CREATED'] });
    const uuid = endpointId.split(':')[1]!;
    // Failing for six days already (the default limit is five).
    await t.db.prisma.webhookEndpoint.update({ where: { id: uuid }, data: { failingSince: new Date(Date.now() - 6 * 86_400_000) } });
    await createIdentity(t);
    await hooks.waitFor(1);
    const endpoint = await eventually(async () => {
      const found = await t.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: uuid } });
      expect(found.disabledAt).not.toBeNull();
      return found;
    });
    expect(endpoint.disabledReason).toMatch(/^no successful delivery since .* \(WEBHOOK_DISABLE_AFTER\)$/);
    expect(t.logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'webhook endpoint disabled', endpoint: uuid, reason: endpoint.disabledReason }));
    // Nothing more is queued or sent for it; enabling it sends what is pending and starts the streak over.
    await createIdentity(t);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hooks.requests).toHaveLength(1);
    const read = await t.graphql<{ updateWebhookEndpoint: { endpoint: { enabled: boolean; disabledReason: string | null; failingSince: string | null } } }>(
      'mutation ($id: ID!) { updateWebhookEndpoint(input: { endpointId: $id, enabled: true }) { endpoint { enabled disabledReason failingSince } } }',
      { id: endpointId },
    );
    expect(read.data?.updateWebhookEndpoint.endpoint).toEqual({ enabled: true, disabledReason: null, failingSince: null });
    hooks.respond = (_request, res) => res.writeHead(200).end();
    await hooks.waitFor(2);
    await eventually(async () => expect((await deliveriesOf(t, endpointId)).map((d) => d.state)).toEqual(['SUCCEEDED']));
  });

  it('delivers events committed while no dispatcher ran, but none from before the endpoint existed', async () => {
    const hooks = await receiver();
    const identityId = await createIdentity(t);
    await runtime.stop();
    try {
      // Before the endpoint: never delivered to it, even though the dispatcher reads it after.
      const before = await createBrowserSession(t, identityId);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const { id: endpointId, secret } = await createEndpoint(t, { url: hooks.url, eventTypes: ['SESSION_CREATED', 'SESSION_REVOKED'] });
      await revoke(t, before.id);
      const during = await createBrowserSession(t, identityId);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(hooks.requests).toHaveLength(0);
      runtime = await start();
      const requests = await hooks.waitFor(2);
      const received = requests.map((r) => new StandardWebhook(secret).verify(r.body, headerRecord(r)) as { type: string; data: { sessionId: string } });
      expect(received.map((r) => `${r.type} ${r.data.sessionId}`).sort()).toEqual([`session.created ${during.id}`, `session.revoked ${before.id}`].sort());
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(hooks.requests).toHaveLength(2);
      expect(await deliveriesOf(t, endpointId)).toHaveLength(2);
    } finally {
      runtime ??= await start();
    }
  });

  it('counts attempts by outcome and reports the queue in /metrics', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/sessiongraph_webhook_deliveries_total\{outcome="success"\} [1-9]/);
    expect(text).toMatch(/sessiongraph_webhook_deliveries_total\{outcome="http_error"\} [1-9]/);
    expect(text).toMatch(/sessiongraph_webhook_deliveries_total\{outcome="timeout"\} [1-9]/);
    expect(text).toMatch(/sessiongraph_webhook_queue_depth \d+/);
    expect(text).toMatch(/sessiongraph_webhook_oldest_pending_seconds [\d.]+/);
  });

  it('is for admins only, and refuses bad input naming the field', async () => {
    const identityId = await createIdentity(t);
    const session = await createBrowserSession(t, identityId);
    const asSession = await t.graphql('{ webhookEndpoints { edges { node { id } } } }', {}, { authorization: session.authorization });
    expect(asSession.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = async (input: Record<string, unknown>) => {
      const result = await t.graphql('mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }', { input });
      return [result.errors?.[0]?.extensions?.code, result.errors?.[0]?.extensions?.field, result.errors?.[0]?.message];
    };
    expect(await bad({ url: 'https://hooks.example.com/x', eventTypes: [] })).toEqual(['BAD_USER_INPUT', 'input.eventTypes', 'input.eventTypes: name at least one event type']);
    expect((await bad({ url: 'ftp://hooks.example.com/x', eventTypes: ['SESSION_REVOKED'] })).slice(0, 2)).toEqual(['BAD_USER_INPUT', 'input.url']);
    expect((await bad({ url: 'https://user:pw@hooks.example.com/x', eventTypes: ['SESSION_REVOKED'] })).slice(0, 2)).toEqual(['BAD_USER_INPUT', 'input.url']);
    expect((await bad({ url: 'https://hooks.example.com/x', eventTypes: ['IDENTITY_CREATED'], format: 'CLERK' })).slice(0, 2)).toEqual(['BAD_USER_INPUT', 'input.eventTypes']);
    // Refused even where private addresses are allowed: metadata, unspecified, multicast.
    for (const url of ['http://169.254.169.254/latest', 'http://[fd00:ec2::254]/', 'http://0.0.0.0:80/', 'http://224.0.0.1/', 'http://[::ffff:169.254.169.254]/']) {
      const [code, field, message] = await bad({ url, eventTypes: ['SESSION_REVOKED'] });
      expect([code, field]).toEqual(['BAD_USER_INPUT', 'input.url']);
      expect(message).toMatch(/refused: .* is a metadata, unspecified, multicast or reserved address/);
    }
    const missing = await t.graphql('mutation { sendTestWebhook(input: { endpointId: "WebhookEndpoint:00000000-0000-7000-8000-000000000000" }) { delivery { id } } }');
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('sends a test message, and deletes an endpoint with its deliveries', async () => {
    const hooks = await receiver();
    const { id: endpointId, secret } = await createEndpoint(t, { url: hooks.url, eventTypes: ['SESSION_REVOKED'] });
    const sent = await t.graphql<{ sendTestWebhook: { delivery: { type: string; state: string } } }>(
      'mutation ($id: ID!) { sendTestWebhook(input: { endpointId: $id }) { delivery { type state } } }',
      { id: endpointId },
    );
    expect(sent.data?.sendTestWebhook.delivery).toEqual({ type: 'webhook.test', state: 'PENDING' });
    const [request] = await hooks.waitFor(1);
    expect(new StandardWebhook(secret).verify(request!.body, headerRecord(request!))).toMatchObject({ type: 'webhook.test', data: { endpointId } });
    // Finished deliveries leave after the retention (a test message has no event to go with).
    const uuid = endpointId.split(':')[1]!;
    await eventually(async () => expect((await deliveriesOf(t, endpointId))[0]?.state).toBe('SUCCEEDED'));
    const retention = 90 * 86_400_000;
    expect(await purgeWebhookDeliveries(t.db.prisma, new Date(), retention)).toBe(0);
    await runtime.stop();
    try {
      await sendTestWebhook(t.db.prisma, uuid, new Date()); // pending: kept whatever its age
      const later = new Date(Date.now() + retention + 86_400_000);
      expect(await t.db.prisma.webhookDelivery.count({ where: { endpointId: uuid } })).toBe(2);
      expect(await purgeWebhookDeliveries(t.db.prisma, later, retention)).toBeGreaterThanOrEqual(1); // earlier tests' too
      expect(await t.db.prisma.webhookDelivery.findMany({ where: { endpointId: uuid }, select: { state: true } })).toEqual([{ state: 'PENDING' }]);
    } finally {
      runtime = await start();
    }
    const deleted = await t.graphql<{ deleteWebhookEndpoint: { deletedEndpointId: string } }>(
      'mutation ($id: ID!) { deleteWebhookEndpoint(input: { endpointId: $id }) { deletedEndpointId } }',
      { id: endpointId },
    );
    expect(deleted.data?.deleteWebhookEndpoint.deletedEndpointId).toBe(endpointId);
    expect(await t.db.prisma.webhookDelivery.count({ where: { endpointId: endpointId.split(':')[1]! } })).toBe(0);
  });
});
