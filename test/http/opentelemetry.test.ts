// Traces, end to end: the compiled server with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a collector
// of our own (a plain HTTP server decoding OTLP/JSON), a request carrying a gateway's `traceparent`,
// and the spans that arrive — in the caller's trace, from the HTTP request down to the database.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { hashOperation } from '@graphql-hive/core';
import { buildSchema, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationHash } from '../../src/http/opentelemetry.js';
import { projectRoot, startServer, type ServerProcess } from '../support/process.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('opentelemetry');
const adminToken = 'opentelemetry-admin-token-Vw3Kp8Rt2Zq6';
const authorization = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: { stringValue?: string } }[];
  service?: string;
}

/** An OTLP/HTTP traces endpoint that keeps what it receives (JSON, as the HTTP exporter sends it). */
function collector(): Promise<{ server: Server; url: string; spans: ReceivedSpan[]; contentTypes: Set<string> }> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      contentTypes.add(String(req.headers['content-type']));
      if (req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/json')) {
        type Export = { resourceSpans: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: ReceivedSpan[] }[] }[] };
        for (const resource of (JSON.parse(Buffer.concat(chunks).toString()) as Export).resourceSpans) {
          const service = resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
          for (const scope of resource.scopeSpans) for (const span of scope.spans) spans.push({ ...span, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, contentTypes })));
}

describe('OpenTelemetry traces', () => {
  let otlp: Awaited<ReturnType<typeof collector>>;
  let server: ServerProcess;
  beforeAll(async () => {
    otlp = await collector();
    server = await startServer({
      DATA_DIR: await tempDir(),
      ADMIN_TOKEN: adminToken,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_SERVICE_NAME: 'sessiongraph-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  });
  afterAll(async () => {
    await server?.stop();
    otlp?.server.close();
  });

  const graphql = async (query: string, headers: Record<string, string> = {}, variables?: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization, ...headers }, body: JSON.stringify({ query, variables }) });
    return (await response.json()) as { data?: unknown; errors?: unknown };
  };

  const spansOf = async (traceId: string, expected: string[]) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const spans = otlp.spans.filter((s) => s.traceId === traceId);
      if (expected.every((name) => spans.some((s) => s.name === name)) || Date.now() > deadline) return spans;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it("continues the caller's trace: HTTP, parse, validate, execute, the planned statement and the database", async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const answer = await graphql('{ sessions(first: 1) { totalCount } }', { traceparent: `00-${traceId}-${callerSpanId}-01` });
    expect(answer).toEqual({ data: { sessions: { totalCount: 0 } } });

    const expected = ['POST /graphql', 'graphql.parse', 'graphql.validate', 'graphql.execute', 'sessiongraph.planned_statement', 'db.query'];
    const spans = await spansOf(traceId, expected);
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(expected));
    expect(otlp.contentTypes).toContain('application/json');
    const byName = (name: string) => spans.find((s) => s.name === name)!;
    // The HTTP span is the caller's child; the statement runs inside the execution, the database call inside the statement.
    expect(byName('POST /graphql').parentSpanId).toBe(callerSpanId);
    const ancestors = (span: ReceivedSpan): string[] => {
      const parent = spans.find((s) => s.spanId === span.parentSpanId);
      return parent ? [parent.name, ...ancestors(parent)] : [];
    };
    expect(ancestors(byName('sessiongraph.planned_statement'))).toEqual(expect.arrayContaining(['graphql.execute', 'POST /graphql']));
    expect(spans.some((s) => s.name === 'db.query' && ancestors(s).includes('sessiongraph.planned_statement'))).toBe(true);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['sessiongraph-under-test']));
  });

  it('answers object literals inside JSON arguments as it would untraced, and traces them with an operation hash', async () => {
    // Hive's operation hashing throws on an object literal in a non-null JSON field (traits); the
    // answer must not depend on it. Nested objects, a list of objects and a fragment as well.
    const traceId = randomBytes(16).toString('hex');
    const email = `traced-${randomBytes(4).toString('hex')}@example.com`;
    const literal = await graphql(
      `mutation { createIdentity(input: { traits: { email: "${email}", name: { first: "Ada" } }, metadataPublic: { plans: [{ tier: "pro" }] } }) { ...Created } }
       fragment Created on CreateIdentityPayload { identity { traits metadataPublic } }`,
      { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    );
    expect(literal).toEqual({ data: { createIdentity: { identity: { traits: { email, name: { first: 'Ada' } }, metadataPublic: { plans: [{ tier: 'pro' }] } } } } });
    const fromVariables = await graphql('mutation ($traits: JSON!) { createIdentity(input: { traits: $traits }) { identity { traits } } }', {}, { traits: { email: `variable-${email}` } });
    expect(fromVariables).toEqual({ data: { createIdentity: { identity: { traits: { email: `variable-${email}` } } } } });

    const spans = await spansOf(traceId, ['POST /graphql', 'graphql.execute', 'db.query']);
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['POST /graphql', 'graphql.execute', 'db.query']));
    const hashes = spans.flatMap((s) => s.attributes ?? []).filter((a) => a.key === 'hive.graphql.operation.hash');
    expect(hashes.map((a) => a.value.stringValue)).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/)]);
  });

  it('counts operations by the path that answered them in /metrics', async () => {
    const count = async (path: string) => {
      const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization } })).text();
      return Number(new RegExp(`^sessiongraph_graphql_operations_total\\{path="${path}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    };
    const before = { planner: await count('planner'), resolvers: await count('resolvers') };
    expect(await graphql('{ sessions(first: 1) { totalCount } }')).toEqual({ data: { sessions: { totalCount: 0 } } });
    expect(await graphql('{ apiTokens { tokenId } }')).toMatchObject({ data: { apiTokens: expect.any(Array) } });
    expect({ planner: await count('planner'), resolvers: await count('resolvers') }).toEqual({ planner: before.planner + 1, resolvers: before.resolvers + 1 });
  });
});

describe('operationHash', () => {
  const schema = buildSchema(readFileSync(join(projectRoot, 'schema.graphql'), 'utf8'));
  const hash = (query: string) => operationHash({ document: parse(query), operationName: null, schema });
  const traits = (email: string) => `mutation { createIdentity(input: { traits: { email: "${email}" } }) { identity { id } } }`;

  it("is Hive's hash where Hive's can be computed", () => {
    const query = '{ sessions(first: 1) { totalCount } }';
    expect(hash(query)).toBe(hashOperation({ documentNode: parse(query), operationName: null, schema, variables: null }));
  });

  it("where Hive's throws, still names the operation's shape: literals aside, the same; another operation, another", () => {
    expect(() => hashOperation({ documentNode: parse(traits('a@example.com')), operationName: null, schema, variables: null })).toThrow();
    expect(hash(traits('a@example.com'))).toMatch(/^[0-9a-f]{32}$/);
    expect(hash(traits('b@example.com'))).toBe(hash(traits('a@example.com')));
    expect(hash(traits('a@example.com').replace('{ id }', '{ id traits }'))).not.toBe(hash(traits('a@example.com')));
  });
});

describe('without an OTLP endpoint', () => {
  // A resolve hook in the server process names every module of OpenTelemetry's SDK, exporter and the
  // Hive plugin it is asked for (@opentelemetry/api alone comes with prom-client, used or not).
  const hook = "import { registerHooks } from 'node:module'; registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); if (/plugin-opentelemetry|@opentelemetry\\/(sdk-|exporter-|context-async-hooks)/.test(r.url)) process.stderr.write('loaded ' + r.url + '\\n'); return r; } });";
  const watcher = `data:text/javascript;base64,${Buffer.from(hook).toString('base64')}`;

  it.each([
    ['none of OpenTelemetry\'s SDK is loaded', {}, false],
    ['(and with one, they are)', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }, true],
  ])('%s', async (_what, env, loads) => {
    const server = await startServer({ DATA_DIR: await tempDir(), NODE_OPTIONS: `--import=${watcher}`, ...env });
    try {
      expect(await (await fetch(`${server.url}/healthz`)).text()).toBeTruthy();
      expect(server.stderr().includes('loaded ')).toBe(loads);
    } finally {
      await server.stop();
    }
  });
});
