// The bundle `npm start` runs (src/cli/bundle.ts) on the parts the in-process tests reach through
// the sources only: PostgreSQL, Redis, OpenTelemetry's exporter, WebSocket subscriptions, the
// GraphiQL page. A package that reads differently bundled (CommonJS exports, a second graphql)
// fails here, not in a user's first request.
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPostgresDatabase } from '../support/databases.js';
import { serverEntry, startServer, type ServerProcess } from '../support/process.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

const adminToken = 'bundle-test-admin-token-0123456789abcdef';
const admin = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;

describe.runIf(process.env.TEST_DATABASE_URL)('the bundled server on PostgreSQL, Redis and OpenTelemetry', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let collector: Receiver;
  let server: ServerProcess;
  beforeAll(async () => {
    expect(serverEntry.at(-1)).toBe('dist/bundle/main.js');
    database = await createPostgresDatabase();
    collector = await startReceiver();
    server = await startServer({
      DATABASE_URL: database.url,
      ADMIN_TOKEN: adminToken,
      ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url.replace(/\/hooks$/, ''),
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await collector?.close();
    await database?.drop();
  });

  const graphql = async (query: string, variables: Record<string, unknown> = {}, authorization = admin) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: Record<string, any>; errors?: unknown[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  it('logs in, answers the session by its token, streams its event over WebSocket, serves GraphiQL and exports spans', async () => {
    const identity = await graphql('mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { identity { id } } }', { input: { traits: { email: 'bundle@example.com' } } });
    expect(identity.errors).toBeUndefined();
    const events: unknown[] = [];
    const ws = createWsClient({ url: `${server.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: admin }, retryAttempts: 0 });
    const subscribed = new Promise<void>((resolve, reject) => {
      ws.subscribe(
        { query: 'subscription { sessionEvents { type } }' },
        { next: (value) => (events.push(value.data), resolve()), error: reject, complete: () => {} },
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the subscription is live before the login
    const login = await graphql(
      'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id status } sessionToken } }',
      { input: { identityId: identity.data!.createIdentity.identity.id, type: 'PASSWORD', devices: [{ userAgent: 'bundle-test' }] } },
    );
    expect(login.errors).toBeUndefined();
    expect(login.data!.createSession.session.status).toBe('ACTIVE');
    const viewer = await graphql('{ viewer { session { id } } }', {}, `Bearer ${login.data!.createSession.sessionToken}`);
    expect(viewer).toEqual({ data: { viewer: { session: { id: login.data!.createSession.session.id } } } });
    await subscribed;
    expect(events).toContainEqual({ sessionEvents: { type: 'SESSION_CREATED' } });
    await ws.dispose();

    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('GraphiQL');

    const exported = await collector.waitFor(1, 10_000);
    expect(exported[0]!.path).toBe('/v1/traces');
    expect(server.logs.filter((line) => line.level === 'error')).toEqual([]);
  });
});
