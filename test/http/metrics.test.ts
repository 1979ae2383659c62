// /metrics in Prometheus' text format, read back with a Prometheus text parser: what a scraper sees
// after real traffic, and who may see it.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuthorization, createTestApp, type TestApp } from '../support/app.js';
import { pgliteTarget } from '../support/databases.js';
import { startServer } from '../support/process.js';
import { createBrowserSession, createIdentity, requestRevocation } from '../support/sessions.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

interface Family {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; count?: string; buckets?: Record<string, string> }[];
}

const parse = (text: string) => new Map((parsePrometheusTextFormat(text) as Family[]).map((family) => [family.name, family]));
const tempDir = temporaryDirectories('metrics');

function sample(families: Map<string, Family>, name: string, labels: Record<string, string>) {
  return families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

describe('metrics on the main port', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(pgliteTarget, { env: { RATE_LIMIT_AUTH_FAILURES: '1' } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  const scrape = (authorization?: string) =>
    t.app.fetch('http://sessiongraph.test/metrics', { headers: authorization ? { authorization } : {} });

  it('are for API tokens only', async () => {
    expect((await scrape()).status).toBe(401);
    const me = await createBrowserSession(t, await createIdentity(t));
    expect((await scrape(me.authorization)).status).toBe(401);
    expect((await scrape(adminAuthorization)).status).toBe(200);
  });

  it('count operations, errors, statements, refusals, challenges and revocations, and the process', async () => {
    const identityId = await createIdentity(t);
    const [laptop, phone] = [await createBrowserSession(t, identityId), await createBrowserSession(t, identityId)];
    await t.graphql('query SecurityPage { sessions(first: 5) { totalCount } }');
    await t.graphql('{ nodes(ids: ["bad"]) { id } }');
    const challenge = await requestRevocation(t, phone.id, laptop.authorization);
    await t.graphql('mutation ($input: ConfirmRevocationInput!) { confirmRevocation(input: $input) { operation } }', { input: { requestId: challenge.requestId, signature: 'AAAA' } }, { authorization: laptop.authorization });
    await t.graphql('mutation ($input: ConfirmRevocationInput!) { confirmRevocation(input: $input) { operation } }', { input: { requestId: challenge.requestId, signature: await laptop.sign(challenge.payloadToSign) } }, { authorization: laptop.authorization });
    await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: laptop.id });
    for (let i = 0; i < 2; i++) await t.graphql('{ __typename }', {}, { authorization: 'Bearer wrong' });

    const response = await scrape(adminAuthorization);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const families = parse(text);
    expect(families.get('sessiongraph_graphql_operation_duration_seconds')?.type).toBe('HISTOGRAM');
    // The parser folds only unlabelled histograms; a labelled one's count is read from its line.
    expect(text).toMatch(/^sessiongraph_graphql_operation_duration_seconds_count\{operation="SecurityPage",type="query"\} 1$/m);
    expect(Number(sample(families, 'sessiongraph_graphql_errors_total', { code: 'BAD_USER_INPUT' })?.value)).toBeGreaterThanOrEqual(1);
    expect(Number(sample(families, 'sessiongraph_graphql_errors_total', { code: 'RATE_LIMITED' })?.value)).toBeGreaterThanOrEqual(1);
    expect(Number(sample(families, 'sessiongraph_rate_limit_refusals_total', { limit: 'failed_authentications' })?.value)).toBeGreaterThanOrEqual(1);
    expect(Number(sample(families, 'sessiongraph_challenges_total', { operation: 'REVOKE_SESSION', outcome: 'issued' })?.value)).toBe(1);
    expect(Number(sample(families, 'sessiongraph_challenges_total', { operation: 'REVOKE_SESSION', outcome: 'INVALID_SIGNATURE' })?.value)).toBe(1);
    expect(Number(sample(families, 'sessiongraph_challenges_total', { operation: 'REVOKE_SESSION', outcome: 'confirmed' })?.value)).toBe(1);
    expect(Number(sample(families, 'sessiongraph_revocations_total', { kind: 'signed' })?.value)).toBe(1);
    expect(Number(sample(families, 'sessiongraph_revocations_total', { kind: 'admin' })?.value)).toBe(1);
    expect(Number(sample(families, 'sessiongraph_http_requests_total', { method: 'POST', route: '/graphql', status: '200' })?.value)).toBeGreaterThan(5);
    expect(families.has('sessiongraph_process_cpu_seconds_total')).toBe(true);
    expect(families.has('sessiongraph_nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('keep operation names a client makes up from growing the registry', async () => {
    for (let i = 0; i < 250; i++) await t.graphql(`query Made${i} { __typename }`);
    const text = await (await scrape(adminAuthorization)).text();
    const names = new Set([...text.matchAll(/^sessiongraph_graphql_operation_duration_seconds_count\{operation="([^"]*)"/gm)].map((m) => m[1]));
    expect(names.size).toBeLessThanOrEqual(202);
    expect(names.has('other')).toBe(true);
  });
});

describe('metrics and wrong credentials', () => {
  it('count a wrong secret toward the rate limits as every route does: 429 past them, and the correct secret still gets in', async () => {
    const t = await createTestApp(pgliteTarget, { env: { RATE_LIMIT_AUTH_FAILURES: '2' } });
    try {
      const scrape = (secret: string) => t.app.fetch('http://sessiongraph.test/metrics', { headers: { authorization: `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}` } });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await scrape(`guess-${i}-of-the-admin-secret`)).status);
      expect(statuses).toEqual([401, 401, 429]);
      const limited = await scrape('guess-3-of-the-admin-secret');
      expect([limited.status, limited.headers.get('retry-after'), ((await limited.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code]).toEqual([429, '60', 'RATE_LIMITED']);
      // Counted with GraphQL's: the same address is past the limit there too.
      expect((await t.graphql('{ __typename }', {}, { authorization: 'Bearer sgs_wrong' })).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect((await t.app.fetch('http://sessiongraph.test/metrics', { headers: { authorization: adminAuthorization } })).status).toBe(200);
    } finally {
      await t.dispose();
    }
  });
});

describe('metrics on a port of their own', () => {
  it('serve the metrics there, with statement times, and not on the main port', async () => {
    const server = await startServer({ DATA_DIR: await tempDir(), METRICS_PORT: '0', ADMIN_TOKEN: 'metrics-admin-token-Hs8Pq3WxYt6NbR' });
    try {
      const metricsUrl = server.logs.find((line) => line.msg === 'sessiongraph ready')!.metrics as string;
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const admin = `Basic ${Buffer.from('admin:metrics-admin-token-0123456789').toString('base64')}`;
      await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: admin }, body: '{"query":"{ sessions { totalCount } }"}' });
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization: admin } })).status).toBe(404);
      const families = parse(await (await fetch(metricsUrl)).text());
      expect(Number(families.get('sessiongraph_db_statement_duration_seconds')?.metrics[0]?.count)).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
  });
});
