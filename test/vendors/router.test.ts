// What the vendor routes share: prefixes (moved, or off), the vendor's own 404 / 405 bodies, the
// body limit, and rate limits on failed credentials counted as for GraphQL.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { pgliteTarget } from '../support/databases.js';
import { adminSecretKey } from '../support/vendors.js';

describe('the vendor routes', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.dispose();
    t = undefined;
  });
  const call = (path: string, init: RequestInit = {}) => t!.app.fetch(`http://sessiongraph.test${path}`, init);

  it('live under their prefixes, which move, and are gone when turned off', async () => {
    t = await createTestApp(pgliteTarget, { env: { KRATOS_PREFIX: '/ory', CLERK_PREFIX: '' } });
    expect((await call('/ory/sessions/whoami')).status).toBe(401);
    expect((await call('/kratos/sessions/whoami')).status).toBe(404);
    expect((await call('/clerk/v1/jwks', { headers: { authorization: `Bearer ${adminSecretKey}` } })).status).toBe(404);
    await t.dispose();
    t = await createTestApp(pgliteTarget, { env: { VENDOR_ROUTES: 'false' } });
    for (const path of ['/kratos/sessions/whoami', '/clerk/v1/sessions', '/grid/auth/sessions']) expect((await call(path)).status, path).toBe(404);
    expect((await t.graphql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('answer unknown routes, wrong methods and oversized bodies in the vendor\'s own error shape', async () => {
    t = await createTestApp(pgliteTarget, { env: { MAX_REQUEST_BODY_BYTES: '1024' } });
    const missing = await call('/kratos/nowhere');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 404, status: 'Not Found' } });
    const wrongMethod = await call('/clerk/v1/sessions', { method: 'PUT', headers: { authorization: `Bearer ${adminSecretKey}` } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect(await wrongMethod.json()).toMatchObject({ errors: [{ code: 'method_not_allowed' }] });
    const big = await call('/grid/auth/credentials', { method: 'POST', headers: { authorization: `Bearer ${adminSecretKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(2000) }) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ status: 413, message: expect.stringContaining('MAX_REQUEST_BODY_BYTES') });
  });

  it('count failed credentials toward the same rate limit as GraphQL', async () => {
    t = await createTestApp(pgliteTarget, { env: { RATE_LIMIT_AUTH_FAILURES: '2' } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('/kratos/sessions/whoami', { headers: { 'x-session-token': `wrong-${i}` } })).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
    const limited = await call('/clerk/v1/sessions?user_id=user_x', { headers: { authorization: 'Bearer admin.nope' } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited.json()).toMatchObject({ errors: [{ code: 'too_many_requests' }] });
    expect((await t.graphql('{ viewer { session { id } } }', {}, { authorization: 'Bearer wrong' })).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });
});
