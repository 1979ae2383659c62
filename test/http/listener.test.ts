import { describe, expect, it } from 'vitest';
import { answerLiveness, startHttpServer } from '../../src/http/listener.js';
import { createLogger } from '../../src/logger.js';

describe('the listener before the app exists', () => {
  it('answers /healthz itself, as the app does (request id and log line included), and leaves every other request to the app', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const running = await startHttpServer(
      (req, res) => {
        if (answerLiveness(req, res, logger)) return;
        res.writeHead(418).end('the app');
      },
      { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 1000 },
    );
    try {
      const health = await fetch(`${running.url.replace('localhost', '127.0.0.1')}/healthz?probe=1`, { headers: { 'x-request-id': 'probe-7' } });
      expect([health.status, health.headers.get('content-type'), health.headers.get('x-request-id'), await health.json()]).toEqual([200, 'application/json', 'probe-7', { status: 'ok' }]);
      expect(lines).toEqual([expect.objectContaining({ msg: 'request', requestId: 'probe-7', method: 'GET', path: '/healthz', status: 200 })]);
      const other = await fetch(`${running.url.replace('localhost', '127.0.0.1')}/healthzz`);
      expect([other.status, await other.text()]).toEqual([418, 'the app']);
      const unsafeId = await fetch(`${running.url.replace('localhost', '127.0.0.1')}/healthz`, { headers: { 'x-request-id': 'no spaces allowed' } });
      expect(unsafeId.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await running.stop();
    }
  });
});
