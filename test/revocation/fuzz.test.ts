// Property: whatever a client sends as a signature, request id or global id, the answer is a coded
// client error or success — never a 500, never an unexpected (masked) error.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { pgliteTarget } from '../support/databases.js';
import { createBrowserSession, createIdentity, requestRevocation, type BrowserSession, type Challenge } from '../support/sessions.js';

describe('hostile inputs to the signed mutations and readers', () => {
  let t: TestApp;
  let phone: BrowserSession;
  let challenge: Challenge;
  beforeAll(async () => {
    t = await createTestApp(pgliteTarget);
    phone = await createBrowserSession(t, await createIdentity(t));
    challenge = await requestRevocation(t, phone.id, phone.authorization);
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function send(query: string, variables: Record<string, unknown>, authorization?: string) {
    const response = await t.app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify({ query, variables }),
    });
    expect(response.status).toBeLessThan(500);
    const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    for (const error of body.errors ?? []) {
      expect(error.extensions?.code, error.message).toBeDefined();
      expect(error.extensions?.code, error.message).not.toBe('INTERNAL_SERVER_ERROR');
    }
    return body;
  }

  const text = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.base64String(),
    fc.uint8Array({ minLength: 0, maxLength: 80 }).map((b) => Buffer.from(b).toString('base64url')),
    fc.constantFrom('', 'Session:', 'Session:x', 'Identity:00000000-0000-0000-0000-000000000000', '{}', 'e30', '\u0000'),
  );
  const id = fc.oneof(text, fc.uuid().map((u) => `Session:${u}`), fc.uuid().map((u) => `Device:${u}`), fc.uuid());

  it('confirmRevocation with any signature and request id', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.oneof(text, fc.constant(challenge.requestId)), async (signature, requestId) => {
        const body = await send(
          `mutation ($input: ConfirmRevocationInput!) { confirmRevocation(input: $input) { session { id } } }`,
          { input: { requestId, signature } },
          phone.authorization,
        );
        expect(body.errors?.length).toBeGreaterThan(0); // no random string is a valid signature
      }),
      { numRuns: 150 },
    );
  });

  it('readers and revokeSession with any id, and any Authorization header', async () => {
    await fc.assert(
      fc.asyncProperty(id, fc.oneof(fc.constant(phone.authorization), text.map((s) => `Bearer ${s}`), text.map((s) => `Basic ${s}`)), async (value, authorization) => {
        if (/[\r\n\0]/.test(authorization)) return; // not a valid HTTP header value at all
        await send(`query ($id: ID!) { session(id: $id) { id } node(id: $id) { id } nodes(ids: [$id]) { id } }`, { id: value }, authorization);
        await send(`mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId } } }`, { id: value }, phone.authorization);
        await send(`query ($after: String) { sessions(first: 2, after: $after) { totalCount } }`, { after: value }, phone.authorization);
      }),
      { numRuns: 150 },
    );
  });
});
