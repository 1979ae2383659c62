import { describe, expect, it } from 'vitest';
import { answerLiveness, startHttpServer } from '../../src/http/listener.js';
import { createLogger } from '../../src/logger.js';

describe('the HTTP listener', () => {
  it('answers /healthz itself, as the app does (request id and log line included), and leaves every other request to the app', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const running = await startHttpServer(
      (req, res) => {
        if (answerLiveness(req, res, logger)) return;
        res.writeHead(418).end('the app');
      },
      { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 1000, logger },
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

  it('logs an error after it listens (an accept that failed) and goes on answering, however many come', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const running = await startHttpServer((_req, res) => res.writeHead(204).end(), { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 1000, logger });
    try {
      // What Node emits when accept(2) fails; without a listener of its own the process would end.
      for (let i = 0; i < 2; i++) running.server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' }));
      expect(lines).toEqual(Array(2).fill(expect.objectContaining({ level: 'error', msg: 'the listener failed to take a connection; it goes on listening', variable: 'PORT', code: 'EMFILE' })));
      expect((await fetch(`${running.url.replace('localhost', '127.0.0.1')}/anything`)).status).toBe(204);
    } finally {
      await running.stop();
    }
  });

  it('names PORT when the port is taken by another process', async () => {
    const logger = createLogger('error', () => {});
    const first = await startHttpServer((_req, res) => res.end(), { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 1000, logger });
    try {
      const port = (first.server.address() as { port: number }).port;
      await expect(startHttpServer((_req, res) => res.end(), { host: '127.0.0.1', port, shutdownTimeoutMs: 1000, logger })).rejects.toThrow(`PORT: ${port} is already in use by another process`);
    } finally {
      await first.stop();
    }
  });
});
