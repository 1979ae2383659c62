// Subscriptions against the real HTTP server, with the clients users use: graphql-sse (GraphQL over
// SSE, distinct connections) and graphql-ws (WebSocket, authenticated in connection_init).
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { attachWebSockets, type WebSocketEndpoint } from '../../src/http/websocket.js';
import { startHttpServer, type RunningServer } from '../../src/http/listener.js';
import { createLogger } from '../../src/logger.js';
import { adminAuthorization, createTestApp, type TestApp } from '../support/app.js';
import { pgliteTarget } from '../support/databases.js';
import { confirmMutation, createBrowserSession, createIdentity, requestRevocation } from '../support/sessions.js';

const subscription = `subscription ($identityId: ID, $after: ID, $types: [SessionEventType!]) {
  sessionEvents(identityId: $identityId, after: $after, types: $types) { id type session { id } }
}`;

type EventResult = { data?: { sessionEvents: { id: string; type: string; session: { id: string } | null } } | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[]; extensions?: { eventId?: string } };

async function next(iterator: AsyncIterator<unknown>, timeoutMs = 5000): Promise<IteratorResult<EventResult>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no message within the timeout')), timeoutMs)));
  try {
    return (await Promise.race([iterator.next(), timeout])) as IteratorResult<EventResult>;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads an SSE response until `count` messages with data arrived; returns their ids and data. */
async function readEventStream(response: Response, count: number): Promise<{ id?: string; data: EventResult }[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const messages: { id?: string; data: EventResult }[] = [];
  let buffer = '';
  while (messages.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split('\n').filter((line) => line && !line.startsWith(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
      if (fields.event === 'next') messages.push({ id: fields.id, data: JSON.parse(fields.data!) as EventResult });
    }
  }
  await reader.cancel();
  return messages;
}

describe('subscriptions over HTTP', () => {
  let t: TestApp;
  let running: RunningServer;
  let webSockets: WebSocketEndpoint;
  const wsClients: WsClient[] = [];
  beforeAll(async () => {
    t = await createTestApp(pgliteTarget, { env: { MAX_SUBSCRIPTIONS_PER_CALLER: '2', SUBSCRIPTION_HEARTBEAT_SECONDS: '1', SUBSCRIPTION_IDLE_SECONDS: '2', SESSION_TOKEN_LIFETIME_SECONDS: '2' } });
    running = await startHttpServer(t.app, { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 2000, logger: createLogger('error', () => {}) });
    webSockets = attachWebSockets(running.server, async () => t.app, { heartbeatMs: 1000, idleMs: 2000, maxPayloadBytes: 1_048_576, production: false });
  });
  afterAll(async () => {
    for (const client of wsClients) await client.dispose();
    await webSockets.close();
    await running.stop();
    await t.dispose();
  });

  const sse = (authorization: string) => createSseClient({ url: `${running.url.replace('localhost', '127.0.0.1')}/graphql`, headers: { authorization }, retryAttempts: 0 });
  const ws = (authorization?: string) => {
    const client = createWsClient({
      url: `${running.url.replace('http://localhost', 'ws://127.0.0.1')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { authorization } : {},
      retryAttempts: 0,
      lazy: true,
    });
    wsClients.push(client);
    return client;
  };

  it('tells a session over SSE what happens to its account, and that it was signed out, then ends', async () => {
    const identityId = await createIdentity(t);
    const phone = await createBrowserSession(t, identityId);
    const laptop = await createBrowserSession(t, identityId);
    const stream = sse(phone.authorization).iterate({ query: subscription });
    // The subscription is live once the feed holds it.
    await expect.poll(() => t.events.size).toBe(1);
    const tablet = await createBrowserSession(t, identityId);
    const created = await next(stream);
    expect(created.value.data?.sessionEvents).toMatchObject({ type: 'SESSION_CREATED', session: { id: tablet.id } });
    // The laptop signs the phone out: the phone hears it at once, and its stream ends.
    const challenge = await requestRevocation(t, phone.id, laptop.authorization);
    const confirmed = await t.graphql(confirmMutation, { input: { requestId: challenge.requestId, signature: await laptop.sign(challenge.payloadToSign) } }, { authorization: laptop.authorization });
    expect(confirmed.errors).toBeUndefined();
    const revoked = await next(stream);
    expect(revoked.value.data?.sessionEvents).toMatchObject({ type: 'SESSION_REVOKED', session: { id: phone.id } });
    expect(revoked.value.extensions?.eventId).toBe(revoked.value.data?.sessionEvents.id);
    expect((await next(stream)).done).toBe(true);
    expect(t.events.size).toBe(0);
    // Its credential no longer works for a new one either.
    const refused = await fetch(`${running.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: phone.authorization },
      body: JSON.stringify({ query: subscription }),
    });
    expect(refused.status).toBe(401);
  });

  it('sends each event\'s id over SSE and resumes after Last-Event-ID with what was missed', async () => {
    const identityId = await createIdentity(t);
    const first = await createBrowserSession(t, identityId);
    const open = (headers: Record<string, string> = {}) =>
      fetch(`${running.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: adminAuthorization, ...headers },
        body: JSON.stringify({ query: subscription, variables: { identityId } }),
      });
    const live = open();
    await expect.poll(() => t.events.size).toBe(1);
    const second = await createBrowserSession(t, identityId);
    const [seen] = await readEventStream(await live, 1);
    expect(seen!.id).toBe(seen!.data.data?.sessionEvents.id);
    expect(seen!.data.data?.sessionEvents.session?.id).toBe(second.id);
    // Disconnected; meanwhile two more sessions are created. Reconnecting with the last id seen:
    const third = await createBrowserSession(t, identityId);
    const fourth = await createBrowserSession(t, identityId);
    const resumed = await readEventStream(await open({ 'last-event-id': seen!.id! }), 2);
    expect(resumed.map((message) => message.data.data?.sessionEvents.session?.id)).toEqual([third.id, fourth.id]);
    expect(first.id).not.toBe(third.id);
    // A resume point that does not exist (purged, or made up) is said so, not silently skipped.
    const [gone] = await readEventStream(await open({ 'last-event-id': 'SessionEvent:00000000-0000-7000-8000-000000000000' }), 1);
    expect(gone!.data.errors?.[0]?.extensions?.code).toBe('EVENT_NOT_FOUND');
  });

  it('authenticates WebSockets in connection_init and resumes after an `after` argument', async () => {
    const identityId = await createIdentity(t);
    await createBrowserSession(t, identityId);
    await createBrowserSession(t, identityId);
    const [oldest] = await t.db.prisma.sessionEvent.findMany({ where: { identityId: identityId.split(':')[1] }, orderBy: { sequence: 'asc' }, take: 1 });
    const stream = ws(adminAuthorization).iterate({ query: subscription, variables: { identityId, after: `SessionEvent:${oldest!.id}` } });
    const missed = [await next(stream), await next(stream)].map((result) => result.value.data?.sessionEvents.type);
    expect(missed).toEqual(['SESSION_CREATED', 'SESSION_CREATED']);
    const later = await createBrowserSession(t, identityId);
    expect((await next(stream)).value.data?.sessionEvents.session?.id).toBe(later.id);
    await stream.return?.();

    // Wrong credentials: the connection is closed before any subscription (4403).
    const refused = ws('Bearer not-a-session-token').iterate({ query: subscription });
    await expect(next(refused)).rejects.toMatchObject({ code: 4403 });
    const anonymous = ws().iterate({ query: subscription });
    await expect(next(anonymous)).rejects.toMatchObject({ code: 4403 });
  });

  it('keeps a session to its own identity and each caller to MAX_SUBSCRIPTIONS_PER_CALLER', async () => {
    const mine = await createIdentity(t);
    const theirs = await createIdentity(t);
    const me = await createBrowserSession(t, mine);
    const snoop = await next(ws(me.authorization).iterate({ query: subscription, variables: { identityId: theirs } }));
    expect(snoop.value.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const client = ws(me.authorization);
    const held = [client.iterate({ query: subscription }), client.iterate({ query: subscription })];
    // Iterators subscribe when first read.
    const reads = held.map((stream) => stream.next());
    await expect.poll(() => t.events.size).toBe(2);
    const third = await next(client.iterate({ query: subscription }));
    expect(third.value.errors?.[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    await held[0]!.return?.();
    await expect.poll(() => t.events.size).toBe(1);
    const replacement = client.iterate({ query: subscription });
    const arriving = next(replacement);
    await expect.poll(() => t.events.size).toBe(2);
    await createBrowserSession(t, mine);
    expect((await arriving).value.data?.sessionEvents.type).toBe('SESSION_CREATED');
    expect(((await reads[1]) as IteratorResult<EventResult>).value.data?.sessionEvents.type).toBe('SESSION_CREATED');
    await replacement.return?.();
    await held[1]!.return?.();
  });

  it('ends a stream opened with a session token (JWT) when the token expires', async () => {
    const session = await createBrowserSession(t, await createIdentity(t));
    const minted = await t.graphql<{ createSessionToken: { token: { jwt: string; expiresAt: string } } }>(
      'mutation ($id: ID!) { createSessionToken(input: { sessionId: $id }) { token { jwt expiresAt } } }',
      { id: session.id },
    );
    const { jwt, expiresAt } = minted.data!.createSessionToken.token;
    const stream = sse(`Bearer ${jwt}`).iterate({ query: subscription });
    const ended = await next(stream, 5000);
    expect(ended.done).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(new Date(expiresAt).getTime());
  });

  it('closes a WebSocket that holds no subscription for SUBSCRIPTION_IDLE_SECONDS', async () => {
    const socket = new WebSocket(`${running.url.replace('http://localhost', 'ws://127.0.0.1')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: adminAuthorization } }));
    const closed = await new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    expect(closed).toBe(4408);
  });
});
