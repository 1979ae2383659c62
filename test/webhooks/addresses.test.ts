// Which receivers webhooks refuse (WEBHOOK_ALLOW_PRIVATE off, as in production): checked when an
// endpoint is saved and again before every attempt, connecting to the address that was checked.
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { addressRefusal, checkedAddress, type Resolver } from '../../src/webhooks/addresses.js';
import { checkWebhookUrl, createWebhookEndpoint } from '../../src/webhooks/endpoints.js';
import { startWebhooks, type WebhookRuntime } from '../../src/webhooks/index.js';
import { createTestApp, testConfig, testTokenKeySecret, type TestApp } from '../support/app.js';
import { pgliteTarget } from '../support/databases.js';
import { headerRecord, startReceiver, type Receiver } from '../support/receiver.js';
import { createIdentity } from '../support/sessions.js';
import { deliveriesOf, eventually } from '../support/webhooks.js';

describe('the address check', () => {
  const refused = [
    '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.254',
    '169.254.1.1', '169.254.169.254', '0.0.0.0', '224.0.0.1', '239.255.255.250', '255.255.255.255',
    '::1', '::', 'fc00::1', 'fd12:3456::1', 'fd00:ec2::254', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::a00:1',
  ];
  const allowed = ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:8.8.8.8'];

  it('refuses loopback, private, CGNAT, link-local, metadata, unspecified and multicast addresses', () => {
    for (const address of refused) expect(addressRefusal(address, false), address).toBeDefined();
    for (const address of allowed) expect(addressRefusal(address, false), address).toBeUndefined();
  });

  it('lets WEBHOOK_ALLOW_PRIVATE allow private networks, never metadata, unspecified or multicast', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '192.168.1.1', '100.64.0.1', '::1', 'fd12::1', 'fe80::1', '169.254.1.1']) expect(addressRefusal(address, true), address).toBeUndefined();
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '0.0.0.0', '::', '224.0.0.1', 'ff02::1', '::ffff:169.254.169.254']) expect(addressRefusal(address, true), address).toBeDefined();
  });

  it('refuses a URL when any address its name resolves to is refused, naming the problem and the field', async () => {
    const settings = (resolve: Resolver) => ({ keySecret: testTokenKeySecret, allowPrivate: false, resolve });
    const both: Resolver = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.1.2.3', family: 4 }];
    await expect(checkWebhookUrl('https://split.example.test/hook', 'input.url', settings(both))).rejects.toMatchObject({
      message: 'input.url: refused: split.example.test resolves to 10.1.2.3 is a loopback, private, link-local or CGNAT address (WEBHOOK_ALLOW_PRIVATE=true allows it)',
      extensions: { code: 'BAD_USER_INPUT', field: 'input.url' },
    });
    const nowhere: Resolver = async () => {
      throw Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    // A name with no address yet is registered; each delivery resolves and checks it again.
    await expect(checkWebhookUrl('https://nowhere.example.test/', 'input.url', settings(nowhere))).resolves.toBe('https://nowhere.example.test/');
    await expect(checkedAddress('nowhere.example.test', false, nowhere)).rejects.toThrow('nowhere.example.test does not resolve (ENOTFOUND)');
    // The system resolver: localhost is this host.
    await expect(checkWebhookUrl('http://localhost:8080/', 'input.url', { allowPrivate: false })).rejects.toMatchObject({ extensions: { field: 'input.url' } });
    for (const url of ['http://127.0.0.1/', 'http://[::1]/', 'http://10.0.0.8/', 'http://[::ffff:127.0.0.1]/', 'http://2130706433/', 'http://0x7f.1/']) {
      await expect(checkWebhookUrl(url, 'input.url', settings(both)), url).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.url' } });
    }
    await expect(checkWebhookUrl('https://public.example.test/hook?x=1#frag', 'input.url', settings(async () => [{ address: '93.184.216.34', family: 4 }]))).resolves.toBe(
      'https://public.example.test/hook?x=1',
    );
    expect(await checkedAddress('public.example.test', false, async () => [{ address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 }])).toEqual({
      address: '2606:2800:220:1:248:1893:25c8:1946',
      family: 6,
    });
  });
});

describe('delivery-time checks (pglite)', () => {
  let t: TestApp;
  let runtime: WebhookRuntime;
  let receiver: Receiver;
  // The name answers differently over time (DNS rebinding): public when the endpoint is saved,
  // this host when the request is about to go.
  let answer = '93.184.216.34';
  const rebinding: Resolver = async () => [{ address: answer, family: 4 }];
  const env = { WEBHOOK_RETRY_SCHEDULE: '100ms', EVENT_POLL_MS: '100' };

  beforeAll(async () => {
    t = await createTestApp(pgliteTarget, { env });
    receiver = await startReceiver();
    runtime = await startWebhooks({
      prisma: t.db.prisma,
      feed: t.events,
      config: testConfig(env),
      keySecret: testTokenKeySecret,
      logger: createLogger('error', () => {}),
      resolve: rebinding,
    });
  });
  afterAll(async () => {
    await runtime?.stop();
    await receiver?.close();
    await t?.dispose();
  });

  it('refuses an attempt when the name has come to point at a refused address, and sends nothing', async () => {
    const port = new URL(receiver.url).port;
    const { endpoint } = await createWebhookEndpoint(
      t.db.prisma,
      { keySecret: testTokenKeySecret, allowPrivate: false, resolve: rebinding },
      { url: `http://rebinding.example.test:${port}/hooks`, eventTypes: ['IDENTITY_CREATED'] },
      new Date(),
    );
    answer = '127.0.0.1';
    await createIdentity(t);
    const [delivery] = await eventually(async () => {
      const found = await deliveriesOf(t, `WebhookEndpoint:${endpoint.id}`);
      expect(found[0]).toMatchObject({ state: 'FAILED', attempts: 2, lastStatusCode: null });
      return found;
    });
    expect(delivery!.lastError).toBe('refused: rebinding.example.test resolves to 127.0.0.1 is a loopback, private, link-local or CGNAT address (WEBHOOK_ALLOW_PRIVATE=true allows it)');
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('pinned connections (pglite, WEBHOOK_ALLOW_PRIVATE=true)', () => {
  it('connects to the address it checked, and sends the name it was given as Host', async () => {
    const env = { WEBHOOK_ALLOW_PRIVATE: 'true', EVENT_POLL_MS: '100' };
    const t = await createTestApp(pgliteTarget, { env });
    const receiver = await startReceiver();
    // No DNS server knows this name: the request can only reach the receiver through the pinned address.
    const resolve: Resolver = async (name) => (name === 'receiver.invalid' ? [{ address: '127.0.0.1', family: 4 }] : []);
    const runtime = await startWebhooks({ prisma: t.db.prisma, feed: t.events, config: testConfig(env), keySecret: testTokenKeySecret, logger: createLogger('error', () => {}), resolve });
    try {
      const port = new URL(receiver.url).port;
      const { secret } = await createWebhookEndpoint(
        t.db.prisma,
        { keySecret: testTokenKeySecret, allowPrivate: true, resolve },
        { url: `http://receiver.invalid:${port}/hooks`, eventTypes: ['IDENTITY_CREATED'] },
        new Date(),
      );
      const identityId = await createIdentity(t);
      const [request] = await receiver.waitFor(1);
      expect(request!.headers.host).toBe(`receiver.invalid:${port}`);
      expect(new StandardWebhook(secret).verify(request!.body, headerRecord(request!))).toMatchObject({ type: 'identity.created', data: { identityId } });
    } finally {
      await runtime.stop();
      await receiver.close();
      await t.dispose();
    }
  });
});
