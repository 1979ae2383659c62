// The embedded database runs on the server's own thread. A large import must not stall it: health
// checks keep answering while 3,000 records are checked and written (between its statements), and a
// SIGTERM in the middle lets every request already sent finish before the process exits.
import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startServer } from '../support/process.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('long-writes');
const adminToken = 'long-writes-admin-token-Jd5Fr9KmTq2w';
const authorization = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;

function gridExport(records: number) {
  const hex = (n: number) => n.toString(16).padStart(12, '0');
  return {
    data: Array.from({ length: records }, (_, i) => ({
      id: `Session:019542f5-b3e7-7d02-8000-${hex(i + 1)}`,
      accountId: `InternalAccount:019542f5-b3e7-7d02-9000-${hex(i % 50)}`,
      type: 'PASSKEY',
      nickname: `device ${i}`,
      createdAt: '2026-04-08T15:30:01Z',
      expiresAt: '2099-04-09T15:30:01Z',
    })),
  };
}

/**
 * A health check on a connection of its own, as a load balancer's probe: a kept-alive one can be
 * closed by the server's keep-alive timer just as it is reused, if a statement outlasts the timer
 * on a heavily loaded machine.
 */
function healthz(url: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(`${url}/healthz`, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    }).on('error', reject);
  });
}

const importMutation = 'mutation ($d: JSON!) { importSessions(input: { from: GRID, document: $d }) { sessionsCreated sessionsUpdated } }';

describe('long writes on the embedded database', () => {
  it('keep /healthz answering, and a SIGTERM drains the requests already sent', async () => {
    const server = await startServer({ DATA_DIR: await tempDir(), ADMIN_TOKEN: adminToken });
    try {
      const graphql = (query: string, variables: Record<string, unknown> = {}) =>
        fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query, variables }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { data?: unknown; errors?: unknown[] } }));

      // 1. Health checks during a 3,000-record import.
      let importing = true;
      const importStarted = performance.now();
      const imported = graphql(importMutation, { d: gridExport(3000) }).finally(() => (importing = false));
      const latencies: number[] = [];
      while (importing) {
        const started = performance.now();
        expect(await healthz(server.url)).toBe(200);
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const first = await imported;
      const importMs = performance.now() - importStarted;
      expect(first.body.errors).toBeUndefined();
      expect(first.body.data).toEqual({ importSessions: { sessionsCreated: 3000, sessionsUpdated: 0 } });
      // Relative to the import, not in milliseconds: a loaded machine slows both alike. A loop held
      // for the whole import would answer one check, about as slow as the import itself.
      expect(latencies.length).toBeGreaterThan(2);
      expect(Math.max(...latencies)).toBeLessThan(importMs * 0.75);

      // 2. SIGTERM while the same import runs again, with 20 reads queued behind it.
      const again = graphql(importMutation, { d: gridExport(400) });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const queued = Array.from({ length: 20 }, () => graphql('{ sessions(first: 1) { totalCount } }'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const exited = server.stop('SIGTERM');
      const answers = await Promise.allSettled([again, ...queued]);
      expect(answers.filter((a) => a.status === 'rejected').map((a) => String((a as PromiseRejectedResult).reason?.cause ?? a))).toEqual([]);
      for (const answer of answers) expect((answer as PromiseFulfilledResult<{ status: number }>).value.status).toBe(200);
      expect(await exited).toBe(0);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});
