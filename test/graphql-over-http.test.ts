// The GraphQL over HTTP specification's own audit suite (graphql-http), against the real handler.
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { pgliteTarget } from './support/databases.js';

describe('GraphQL over HTTP conformance', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(pgliteTarget);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('passes every audit', async () => {
    const audits = serverAudits({
      url: 'http://sessiongraph.test/graphql',
      fetchFn: (input: RequestInfo | URL, init?: RequestInit) => t.app.fetch(new Request(input, init)),
    });
    expect(audits.length).toBeGreaterThan(50);
    const results = await Promise.all(audits.map((audit) => audit.fn()));
    const notOk = results.filter((r) => r.status !== 'ok').map((r) => `${r.status}: ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(notOk).toEqual([]);
  });
});
