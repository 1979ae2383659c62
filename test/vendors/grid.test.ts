// Grid's Embedded Wallet auth routes through plain fetch, as its OpenAPI describes them: the
// session list, and the two-step signed retry for revoking sessions and adding or revoking credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/http/listener.js';
import { adminAuthorization, createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';
import { importFixture, serve } from '../support/vendors.js';

const gridAccount = 'InternalAccount:019542f5-b3e7-1d02-0000-000000000002';

describe.each(databaseTargets)('Grid routes through fetch on $name', (target) => {
  let t: TestApp;
  let server: RunningServer;
  const grid = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
    fetch(`${server.url}/grid${path}`, { ...init, headers: { authorization: adminAuthorization, ...init.headers } });
  const retry = (challenge: { payloadToSign: string; requestId: string }, signer: BrowserSession) =>
    signer.sign(challenge.payloadToSign).then((signature) => ({ 'grid-wallet-signature': signature, 'request-id': challenge.requestId }));

  beforeAll(async () => {
    t = await createTestApp(target);
    server = await serve(t);
    await importFixture(t, 'GRID', 'grid-seed.json');
  });
  afterAll(async () => {
    await server?.stop();
    await t?.dispose();
  });

  it('lists an account\'s active sessions by Grid\'s account id or ours, and nothing for an account the caller cannot see', async () => {
    const session = await createBrowserSession(t, gridAccount, { nickname: 'Pixel 9' });
    const response = await grid(`/auth/sessions?accountId=${gridAccount}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const { data } = (await response.json()) as { data: Record<string, unknown>[] };
    // The imported session expired long ago: only the live one is listed.
    expect(data).toEqual([
      { id: session.id, accountId: gridAccount, type: 'PASSKEY', nickname: 'Pixel 9', createdAt: expect.any(String), updatedAt: expect.any(String), expiresAt: expect.any(String) },
    ]);
    expect(data[0]).not.toHaveProperty('encryptedSessionSigningKey');
    const identityId = await createIdentity(t, {});
    const stranger = await createBrowserSession(t, identityId);
    const hidden = await grid(`/auth/sessions?accountId=${gridAccount}`, { headers: { authorization: stranger.authorization } });
    expect(await hidden.json()).toEqual({ data: [] });
    const missing = await grid('/auth/sessions');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ status: 400, code: 'INVALID_INPUT' });
  });

  it('revokes a session in two steps: 202 with the challenge, 204 for the signed retry, 404 after', async () => {
    const identityId = await createIdentity(t, { email: 'grid@example.com' });
    const laptop = await createBrowserSession(t, identityId);
    const phone = await createBrowserSession(t, identityId);
    const first = await grid(`/auth/sessions/${phone.id}`, { method: 'DELETE' });
    expect(first.status).toBe(202);
    const challenge = (await first.json()) as { payloadToSign: string; requestId: string; expiresAt: string; type: string };
    expect(challenge).toEqual({ payloadToSign: expect.any(String), requestId: expect.any(String), expiresAt: expect.any(String), type: 'PASSKEY' });
    // A bad signature, a lone header, or a challenge for another target are the retry's 401.
    const forged = await grid(`/auth/sessions/${phone.id}`, { method: 'DELETE', headers: { 'grid-wallet-signature': Buffer.alloc(64, 1).toString('base64'), 'request-id': challenge.requestId } });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ status: 401, code: 'WALLET_SIGNATURE_INVALID' });
    const lone = await grid(`/auth/sessions/${phone.id}`, { method: 'DELETE', headers: { 'grid-wallet-signature': 'x' } });
    expect(await lone.json()).toMatchObject({ status: 401, code: 'REQUEST_ID_MISSING' });
    const elsewhere = await grid(`/auth/sessions/${laptop.id}`, { method: 'DELETE', headers: await retry(challenge, laptop) });
    expect(elsewhere.status).toBe(401);

    const signed = await grid(`/auth/sessions/${phone.id}`, { method: 'DELETE', headers: await retry(challenge, laptop) });
    expect(signed.status).toBe(204);
    const read = await t.graphql<{ session: { status: string; revokedBySessionId: string } }>('query ($id: ID!) { session(id: $id) { status revokedBySessionId } }', { id: phone.id });
    expect(read.data!.session).toEqual({ status: 'REVOKED', revokedBySessionId: laptop.id });
    // The confirmation replayed: the session is gone, so 404, and nothing changes.
    const replayed = await grid(`/auth/sessions/${phone.id}`, { method: 'DELETE', headers: await retry(challenge, laptop) });
    expect(replayed.status).toBe(404);
    expect((await grid('/auth/sessions/Session:00000000-0000-4000-8000-000000000000', { method: 'DELETE' })).status).toBe(404);
  });

  it('adds and revokes a credential through the same two steps', async () => {
    const identityId = await createIdentity(t, { email: 'creds@example.com' });
    const signer = await createBrowserSession(t, identityId);
    const body = JSON.stringify({ type: 'PASSKEY', accountId: identityId, nickname: 'iPhone Face-ID', attestation: { credentialId: 'AdKXJEch1aV5Wo7b' } });
    const first = await grid('/auth/credentials', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(first.status).toBe(202);
    const challenge = (await first.json()) as { payloadToSign: string; requestId: string; type: string };
    expect(challenge.type).toBe('PASSKEY');
    const created = await grid('/auth/credentials', { method: 'POST', body, headers: { 'content-type': 'application/json', ...(await retry(challenge, signer)) } });
    expect(created.status).toBe(201);
    const method = (await created.json()) as { id: string; accountId: string; type: string; nickname: string };
    expect(method).toMatchObject({ id: expect.stringMatching(/^Credential:/), accountId: identityId, type: 'PASSKEY', nickname: 'iPhone Face-ID' });
    const listed = (await (await grid(`/auth/credentials?accountId=${identityId}`)).json()) as { data: unknown[] };
    expect(listed.data).toEqual([method]);
    const replayed = await grid('/auth/credentials', { method: 'POST', body, headers: { 'content-type': 'application/json', ...(await retry(challenge, signer)) } });
    expect(replayed.status).toBe(401);
    expect(await t.db.prisma.credential.count({ where: { identityId: identityId.slice(9) } })).toBe(1);
    const duplicate = await grid('/auth/credentials', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(duplicate.status).toBe(409);

    const revoke = await grid(`/auth/credentials/${method.id}`, { method: 'DELETE' });
    expect(revoke.status).toBe(202);
    const revokeChallenge = (await revoke.json()) as { payloadToSign: string; requestId: string };
    expect((await grid(`/auth/credentials/${method.id}`, { method: 'DELETE', headers: await retry(revokeChallenge, signer) })).status).toBe(204);
    expect((await grid(`/auth/credentials/${method.id}`, { method: 'DELETE' })).status).toBe(404);
    expect(await (await grid(`/auth/credentials?accountId=${identityId}`)).json()).toEqual({ data: [] });
    const events = await t.db.prisma.sessionEvent.findMany({ where: { identityId: identityId.slice(9), type: { in: ['CREDENTIAL_ADDED', 'CREDENTIAL_REVOKED'] } } });
    expect(events.map((e) => [e.type, e.actorSessionId])).toEqual([
      ['CREDENTIAL_ADDED', signer.id.slice(8)],
      ['CREDENTIAL_REVOKED', signer.id.slice(8)],
    ]);
  });

  it('answers 401 for bad credentials and a read-only token\'s attempt with 403', async () => {
    const bad = await grid(`/auth/sessions?accountId=${gridAccount}`, { headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    const token = await t.graphql<{ createApiToken: { authorization: string } }>('mutation { createApiToken(input: { scope: READ }) { authorization } }');
    const identityId = await createIdentity(t, {});
    const session = await createBrowserSession(t, identityId);
    const refused = await grid(`/auth/sessions/${session.id}`, { method: 'DELETE', headers: { authorization: token.data!.createApiToken.authorization } });
    expect(refused.status).toBe(403);
  });
});
