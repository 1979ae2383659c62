// Webhooks across server processes on one PostgreSQL, as a scaled-out deployment runs them: every
// instance dispatches every event, yet each delivery is made once; an instance killed (-9) in the
// middle of an attempt loses nothing; events committed while no server ran are delivered at the
// next start.
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { createPostgresDatabase } from '../support/databases.js';
import { runToEnd, startServer, type ServerProcess } from '../support/process.js';
import { headerRecord, startReceiver, type Receiver } from '../support/receiver.js';
import { createBrowserSession, createIdentity } from '../support/sessions.js';
import { createEndpoint, deliveriesOf, eventually } from '../support/webhooks.js';

const adminToken = 'webhooks-admin-token-Qv7Lm2Xr9Tz4Wp';
const admin = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;

/** The pieces of TestApp the helpers use, against a running server. */
function client(server: ServerProcess): TestApp {
  const graphql = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin },
      body: JSON.stringify({ query, variables }),
    });
    return response.json();
  };
  return { graphql } as unknown as TestApp;
}

describe.runIf(process.env.TEST_DATABASE_URL)('webhooks across instances on one PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let env: Record<string, string>;
  const servers: ServerProcess[] = [];
  const receivers: Receiver[] = [];
  const start = async () => {
    const server = await startServer(env);
    servers.push(server);
    return server;
  };
  const receiver = async () => {
    const started = await startReceiver();
    receivers.push(started);
    return started;
  };

  beforeAll(async () => {
    database = await createPostgresDatabase();
    env = {
      DATABASE_URL: database.url,
      ADMIN_TOKEN: adminToken,
      TOKEN_KEY_SECRET: 'webhooks-token-key-secret-0123456789abcdef',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms',
      // A lease is twice the timeout: an attempt whose instance died is made again 4 s on.
      WEBHOOK_TIMEOUT_SECONDS: '2',
      EVENT_POLL_MS: '200',
      // A loaded machine's PostgreSQL can take a while to accept a connection.
      DATABASE_CONNECT_TIMEOUT_MS: '30000',
    };
  }, 60_000);
  // A test that fails leaves no server behind to deliver into the next one.
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => (server.child.exitCode === null && server.child.signalCode === null ? server.stop('SIGKILL') : undefined)));
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await database?.drop();
  });

  it('make each delivery once between two instances that both dispatch every event', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const hooks = await receiver();
    const { secret } = await createEndpoint(client(a), { url: hooks.url, eventTypes: ['IDENTITY_CREATED'] });
    // Five at a time, half through each instance (a loaded machine's pool waits are bounded).
    const created: string[] = [];
    for (let i = 0; i < 30; i += 5) created.push(...(await Promise.all([0, 1, 2, 3, 4].map((j) => createIdentity(client((i + j) % 2 ? a : b), { n: i + j })))));
    const requests = await hooks.waitFor(30, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(hooks.requests).toHaveLength(30);
    const delivered = requests.map((r) => (new StandardWebhook(secret).verify(r.body, headerRecord(r)) as { data: { identityId: string } }).data.identityId);
    expect(delivered.sort()).toEqual([...created].sort());
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(30);
    expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
  }, 120_000);

  it('deliver to an endpoint created, or enabled again, on another instance the events that happen after it', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const hooks = await receiver();
    const identityId = await createIdentity(client(a));
    // a has dispatched a SESSION_CREATED while no endpoint wanted one: the types it knows say so.
    await createBrowserSession(client(a), identityId);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { id: endpointId, secret } = await createEndpoint(client(b), { url: hooks.url, eventTypes: ['SESSION_CREATED'] });
    // From here on only a dispatches what happens.
    expect(await b.stop()).toBe(0);
    const created = await createBrowserSession(client(a), identityId);
    await hooks.waitFor(1, 20_000);
    const c = await start();
    const enable = async (enabled: boolean) => {
      const result = await client(c).graphql('mutation ($id: ID!, $enabled: Boolean!) { updateWebhookEndpoint(input: { endpointId: $id, enabled: $enabled }) { endpoint { enabled } } }', { id: endpointId, enabled });
      expect(result).toEqual({ data: { updateWebhookEndpoint: { endpoint: { enabled } } } });
    };
    await enable(false);
    await createBrowserSession(client(a), identityId);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await enable(true);
    expect(await c.stop()).toBe(0);
    const enabledAgain = await createBrowserSession(client(a), identityId);
    const requests = await hooks.waitFor(2, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(hooks.requests).toHaveLength(2);
    const delivered = requests.map((r) => (new StandardWebhook(secret).verify(r.body, headerRecord(r)) as { type: string; data: { sessionId: string } }));
    expect(delivered.map((r) => `${r.type} ${r.data.sessionId}`)).toEqual([`session.created ${created.id}`, `session.created ${enabledAgain.id}`]);
    expect(await a.stop()).toBe(0);
  }, 120_000);

  it('make an attempt again when the instance making it is killed (-9) in the middle', async () => {
    const a = await start();
    const hooks = await receiver();
    hooks.respond = (request, res) => {
      // The first request is held (its instance dies holding it); later ones are answered.
      if (hooks.requests.indexOf(request) > 0) res.writeHead(200).end();
    };
    const { id: endpointId } = await createEndpoint(client(a), { url: hooks.url, eventTypes: ['IDENTITY_CREATED'] });
    await createIdentity(client(a));
    const [held] = await hooks.waitFor(1);
    expect(await a.stop('SIGKILL')).toBeNull();
    const b = await start();
    const [, again] = await hooks.waitFor(2, 20_000);
    expect(again!.headers['webhook-id']).toBe(held!.headers['webhook-id']);
    expect(again!.body).toBe(held!.body);
    expect(again!.at - held!.at).toBeGreaterThanOrEqual(3000); // the dead instance's lease ran out first
    const [delivery] = await eventually(async () => {
      const found = await deliveriesOf(client(b), endpointId);
      expect(found[0]?.state).toBe('SUCCEEDED');
      return found;
    });
    expect(delivery!.attempts).toBe(1); // the killed attempt recorded nothing
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hooks.requests).toHaveLength(2);
    expect(await b.stop()).toBe(0);
  }, 120_000);

  it('deliver what an import committed while no server ran, at the next start', async () => {
    const a = await start();
    const hooks = await receiver();
    const { secret } = await createEndpoint(client(a), { url: hooks.url, eventTypes: ['SESSION_IMPORTED'] });
    expect(await a.stop()).toBe(0);
    const imported = await runToEnd(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', '--from', 'clerk', 'test/fixtures/clerk-sessions.json'], env, 60_000);
    expect(imported.code, imported.stderr).toBe(0);
    expect(hooks.requests).toHaveLength(0);
    const b = await start();
    const requests = await hooks.waitFor(1, 20_000);
    const first = new StandardWebhook(secret).verify(requests[0]!.body, headerRecord(requests[0]!)) as { type: string; data: { details: { source: string } } };
    expect(first).toMatchObject({ type: 'session.imported', data: { details: { source: 'CLERK' } } });
    expect(await b.stop()).toBe(0);
  }, 120_000);
});
