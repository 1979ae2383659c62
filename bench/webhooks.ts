// What webhook delivery adds to a revocation: admin revocations against a server on the bench's
// database, in rounds that alternate between no endpoint wanting SESSION_REVOKED (the dispatcher
// still reads every event) and one STANDARD endpoint that does, delivered to a receiver in this
// process. Each round counts the server's and PostgreSQL's CPU from its first request until its
// last delivery has been answered (and a settle time, the same in both), per revocation; the
// figure is the difference of the medians. Also: how long an event takes from its commit to the
// receiver.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { admin } from './scenarios.js';

export interface WebhookBenchTools {
  databaseUrl: string;
  /** Starts the compiled server with these variables on top of the bench's; resolves when ready. */
  startServer(env: Record<string, string>): Promise<{ port: number; process: { pid?: number }; stop(): Promise<void> }>;
  cpuMsOf(pid: number): number;
  postgresCpu(): Map<number, number>;
  postgresCpuSince(before: Map<number, number>): number;
  log(message: string): void;
  quick: boolean;
}

const adminRevoke = `mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }`;
const settleMs = 1000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

export async function webhookBench(tools: WebhookBenchTools) {
  const perRound = tools.quick ? 60 : 400;
  const rounds = tools.quick ? 1 : 3;
  const concurrency = 8;
  const client = new pg.Client({ connectionString: tools.databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM sessions WHERE status = 'ACTIVE' AND (expires_at IS NULL OR expires_at > now()) ORDER BY id DESC LIMIT $1`,
    [perRound * (rounds * 2 + 1)],
  );
  await client.end();
  if (rows.length < perRound * (rounds * 2 + 1)) throw new Error(`webhook bench: ${rows.length} active sessions, need ${perRound * (rounds * 2 + 1)}`);
  const targets = rows.map((row) => `Session:${row.id}`);

  const arrivals: number[] = [];
  const latencies: number[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { data: { occurredAt: string } };
      latencies.push(Date.now() - Date.parse(body.data.occurredAt));
      arrivals.push(Date.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  const server = await tools.startServer({
    DATABASE_URL: tools.databaseUrl,
    WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  const graphql = async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin },
      body: JSON.stringify({ query, variables }),
    });
    const answer = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (answer.errors) throw new Error(`webhook bench: ${JSON.stringify(answer.errors)}`);
    return answer.data!;
  };
  let endpointId: string | undefined;
  try {
    const created = await graphql(
      `mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`,
      { input: { url: receiverUrl, eventTypes: ['SESSION_REVOKED'] } },
    );
    endpointId = created.createWebhookEndpoint.endpoint.id as string;
    const setEnabled = (enabled: boolean) =>
      graphql(`mutation ($id: ID!, $on: Boolean!) { updateWebhookEndpoint(input: { endpointId: $id, enabled: $on }) { endpoint { id } } }`, { id: endpointId, on: enabled });

    const measured: Record<'off' | 'on', { serverMs: number[]; postgresMs: number[] }> = { off: { serverMs: [], postgresMs: [] }, on: { serverMs: [], postgresMs: [] } };
    let next = 0;
    // Round 0 warms the server up (revocations and deliveries) and is not counted.
    for (let round = -1; round < rounds * 2; round++) {
      const mode = round % 2 === 0 ? 'off' : 'on';
      await setEnabled(mode === 'on');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const batch = targets.slice(next, next + perRound);
      next += perRound;
      const delivered = arrivals.length;
      const pid = server.process.pid!;
      const cpuBefore = tools.cpuMsOf(pid);
      const postgresBefore = tools.postgresCpu();
      let index = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (index < batch.length) await graphql(adminRevoke, { id: batch[index++]! });
        }),
      );
      if (mode === 'on') {
        const deadline = Date.now() + 60_000;
        while (arrivals.length - delivered < batch.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        if (arrivals.length - delivered < batch.length) throw new Error(`webhook bench: ${arrivals.length - delivered} of ${batch.length} deliveries arrived`);
      }
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      if (round < 0) {
        latencies.length = 0;
        continue;
      }
      measured[mode].serverMs.push((tools.cpuMsOf(pid) - cpuBefore) / batch.length);
      measured[mode].postgresMs.push(tools.postgresCpuSince(postgresBefore) / batch.length);
      tools.log(`webhooks round ${round + 1}/${rounds * 2} (${mode}): ${round3(measured[mode].serverMs.at(-1)!)} server CPU ms/revocation`);
    }
    const summary = (mode: 'off' | 'on') => ({
      serverCpuMsPerRevocation: round3(median(measured[mode].serverMs)),
      postgresCpuMsPerRevocation: round3(median(measured[mode].postgresMs)),
      serverCpuMsRange: [round3(Math.min(...measured[mode].serverMs)), round3(Math.max(...measured[mode].serverMs))],
    });
    const off = summary('off');
    const on = summary('on');
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      revocationsPerRound: perRound,
      roundsEach: rounds,
      withoutEndpoint: off,
      withEndpoint: on,
      addedServerCpuMsPerRevocation: round3(on.serverCpuMsPerRevocation - off.serverCpuMsPerRevocation),
      addedPostgresCpuMsPerRevocation: round3(on.postgresCpuMsPerRevocation - off.postgresCpuMsPerRevocation),
      commitToReceiverMs: { p50: sorted[Math.floor(sorted.length * 0.5)] ?? 0, p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0 },
    };
  } finally {
    // Gone before the receiver is: the benches after this one on the same database (the writes'
    // revocations) would otherwise pay for deliveries to a closed port and their retries.
    if (endpointId) await graphql(`mutation ($id: ID!) { deleteWebhookEndpoint(input: { endpointId: $id }) { __typename } }`, { id: endpointId });
    await server.stop();
    receiver.close();
  }
}

/** The line the bench prints. */
export function webhookBenchLine(result: Awaited<ReturnType<typeof webhookBench>>): string {
  const signed = (value: number) => `${value >= 0 ? '+' : ''}${value}`;
  return (
    `- webhook delivery per revocation: ${signed(result.addedServerCpuMsPerRevocation)} server CPU ms, ${signed(result.addedPostgresCpuMsPerRevocation)} PostgreSQL CPU ms ` +
    `(without an endpoint ${result.withoutEndpoint.serverCpuMsPerRevocation} / ${result.withoutEndpoint.postgresCpuMsPerRevocation}, with one ${result.withEndpoint.serverCpuMsPerRevocation} / ${result.withEndpoint.postgresCpuMsPerRevocation}; ` +
    `medians of ${result.roundsEach} interleaved rounds of ${result.revocationsPerRound}); commit to receiver p50 ${result.commitToReceiverMs.p50} ms, p99 ${result.commitToReceiverMs.p99} ms\n`
  );
}
