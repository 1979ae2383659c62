import { webcrypto } from 'node:crypto';
import { CipherSuite, Aes256Gcm, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core';
import { p256 } from '@noble/curves/nist.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import {
  confirmMutation,
  createBrowserSession,
  createIdentity,
  requestRevocation,
  webCryptoSign,
  type BrowserSession,
} from '../support/sessions.js';

type Confirmed = {
  confirmRevocation: {
    operation: string;
    session: { id: string; status: string; revokedAt: string | null; revokedBySessionId: string | null };
    revokedSessions: { id: string; status: string }[];
    credential: { id: string; revokedAt: string } | null;
  };
};

describe.each(databaseTargets)('signed revocation on $name', (target) => {
  let t: TestApp;
  let clock = Date.now();
  let identityId: string;
  beforeAll(async () => {
    // The race below sends 50 confirmations at once; the per-caller limit has its own test.
    t = await createTestApp(target, { now: () => new Date(clock), env: { RATE_LIMIT_CONFIRMATIONS: '10000' } });
    identityId = await createIdentity(t, { email: 'signer@example.com' });
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function confirm(requestId: string, signature: string, authorization?: string) {
    return t.graphql<Confirmed>(confirmMutation, { input: { requestId, signature } }, authorization ? { authorization } : {});
  }

  function codeOf(result: { errors?: { extensions?: Record<string, unknown> }[] }) {
    return result.errors?.[0]?.extensions?.code;
  }

  it('hands out a challenge binding operation, account, target, request, time and audience, and writes nothing else', async () => {
    const phone = await createBrowserSession(t, identityId);
    const challenge = await requestRevocation(t, phone.id, phone.authorization);
    expect(challenge).toMatchObject({ type: 'PASSKEY', operation: 'REVOKE_SESSION' });
    expect(Buffer.from(challenge.requestId, 'base64url').length).toBeGreaterThanOrEqual(16);
    const document = JSON.parse(Buffer.from(challenge.payloadToSign, 'base64').toString('utf8'));
    expect(document).toEqual({
      audience: 'sessiongraph-test',
      domain: 'sessiongraph/signed-request',
      expiresAt: challenge.expiresAt,
      identityId,
      issuedAt: expect.any(String),
      operation: 'REVOKE_SESSION',
      requestId: challenge.requestId,
      targetId: phone.id,
      version: 1,
    });
    expect(new Date(challenge.expiresAt).getTime() - new Date(document.issuedAt).getTime()).toBe(300_000);
    // Canonical form: sorted keys, no whitespace.
    expect(Buffer.from(challenge.payloadToSign, 'base64').toString('utf8')).toBe(JSON.stringify(document, Object.keys(document).sort()));
    const session = await t.graphql(`query ($id: ID!) { session(id: $id) { status } }`, { id: phone.id });
    expect(session.data).toEqual({ session: { status: 'ACTIVE' } });
  });

  it('signs a session out with its own WebCrypto key (self sign-out), once', async () => {
    const laptop = await createBrowserSession(t, identityId);
    const challenge = await requestRevocation(t, laptop.id, laptop.authorization);
    const signature = await laptop.sign(challenge.payloadToSign);
    const result = await confirm(challenge.requestId, signature, laptop.authorization);
    expect(result.errors).toBeUndefined();
    expect(result.data!.confirmRevocation).toMatchObject({
      operation: 'REVOKE_SESSION',
      session: { id: laptop.id, status: 'REVOKED', revokedAt: expect.any(String), revokedBySessionId: laptop.id },
      revokedSessions: [{ id: laptop.id, status: 'REVOKED' }],
    });
    // Replaying the same signed request fails, and the revoked token no longer authenticates.
    expect(codeOf(await confirm(challenge.requestId, signature))).toBe('CHALLENGE_CONSUMED');
    const response = await t.app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: laptop.authorization },
      body: JSON.stringify({ query: '{ viewer { session { id } } }' }),
    });
    expect(response.status).toBe(401);
    expect((await response.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('lets one device sign another out, in DER, base64url or Grid stamp form', async () => {
    const phone = await createBrowserSession(t, identityId);
    for (const form of ['der', 'base64url', 'stamp'] as const) {
      const tablet = await createBrowserSession(t, identityId);
      const challenge = await requestRevocation(t, tablet.id, phone.authorization);
      const raw = await webCryptoSign(phone.privateKey, challenge.payloadToSign);
      const der = Buffer.from(p256.Signature.fromBytes(raw, 'compact').toBytes('der'));
      const publicKey = (await t.db.prisma.session.findUniqueOrThrow({ where: { id: phone.id.slice(8) } })).signingPublicKey!;
      const signature =
        form === 'der'
          ? der.toString('base64')
          : form === 'base64url'
            ? raw.toString('base64url')
            : Buffer.from(
                JSON.stringify({ publicKey: Buffer.from(publicKey).toString('hex'), scheme: 'SIGNATURE_SCHEME_TK_API_P256', signature: der.toString('hex') }),
              ).toString('base64url');
      const result = await confirm(challenge.requestId, signature, phone.authorization);
      expect(result.errors, form).toBeUndefined();
      expect(result.data!.confirmRevocation.session).toMatchObject({ id: tablet.id, status: 'REVOKED', revokedBySessionId: phone.id });
    }
  });

  it('rejects a signature over another challenge, by another identity, or by a revoked signer', async () => {
    const phone = await createBrowserSession(t, identityId);
    const tablet = await createBrowserSession(t, identityId);
    const a = await requestRevocation(t, tablet.id, phone.authorization);
    const b = await requestRevocation(t, tablet.id, phone.authorization);
    expect(codeOf(await confirm(b.requestId, await phone.sign(a.payloadToSign)))).toBe('INVALID_SIGNATURE');

    const stranger = await createBrowserSession(t, await createIdentity(t, { email: 'stranger@example.com' }));
    expect(codeOf(await confirm(b.requestId, await stranger.sign(b.payloadToSign)))).toBe('INVALID_SIGNATURE');

    const signature = await phone.sign(b.payloadToSign);
    await t.graphql(`mutation ($input: AdminRevokeSessionInput!) { adminRevokeSession(input: $input) { session { id } } }`, {
      input: { sessionId: phone.id, reason: 'lost phone' },
    });
    expect(codeOf(await confirm(b.requestId, signature))).toBe('INVALID_SIGNATURE');
    // None of that consumed the challenge: a valid signature still works.
    const result = await confirm(b.requestId, await tablet.sign(b.payloadToSign));
    expect(result.errors).toBeUndefined();
  });

  it('rejects an expired challenge, an unknown one, and another identity\'s, each with its code', async () => {
    const phone = await createBrowserSession(t, identityId);
    const challenge = await requestRevocation(t, phone.id, phone.authorization);
    const signature = await phone.sign(challenge.payloadToSign);
    clock += 301_000; // the challenge lives 300 s
    try {
      expect(codeOf(await confirm(challenge.requestId, signature))).toBe('CHALLENGE_EXPIRED');
    } finally {
      clock -= 301_000;
    }
    expect(codeOf(await confirm('no-such-request', signature))).toBe('CHALLENGE_NOT_FOUND');
    const stranger = await createBrowserSession(t, await createIdentity(t));
    expect(codeOf(await confirm(challenge.requestId, signature, stranger.authorization))).toBe('CHALLENGE_NOT_FOUND');
    expect(codeOf(await confirm(challenge.requestId, 'not base64!!'))).toBe('INVALID_SIGNATURE');
  });

  it('answers SESSION_ALREADY_REVOKED for a target revoked before or during the exchange', async () => {
    const phone = await createBrowserSession(t, identityId);
    const tablet = await createBrowserSession(t, identityId);
    const challenge = await requestRevocation(t, tablet.id, phone.authorization);
    await t.graphql(`mutation ($input: AdminRevokeSessionInput!) { adminRevokeSession(input: $input) { session { id } } }`, {
      input: { sessionId: tablet.id },
    });
    expect(codeOf(await confirm(challenge.requestId, await phone.sign(challenge.payloadToSign)))).toBe('SESSION_ALREADY_REVOKED');
    const again = await t.graphql(`mutation ($input: RevokeSessionInput!) { revokeSession(input: $input) { challenge { requestId } } }`, {
      input: { sessionId: tablet.id },
    });
    expect(codeOf(again)).toBe('SESSION_ALREADY_REVOKED');
  });

  it('signs out every other device with a challenge the kept session signs', async () => {
    const owner = await createIdentity(t);
    const [keep, other1, other2] = [await createBrowserSession(t, owner), await createBrowserSession(t, owner), await createBrowserSession(t, owner)];
    const requested = await t.graphql<{ revokeOtherSessions: { challenge: { requestId: string; payloadToSign: string; operation: string } } }>(
      `mutation { revokeOtherSessions(input: {}) { challenge { requestId payloadToSign operation } } }`,
      {},
      { authorization: keep.authorization },
    );
    const challenge = requested.data!.revokeOtherSessions.challenge;
    expect(challenge.operation).toBe('REVOKE_OTHER_SESSIONS');
    // Another device of the same account may not sign this one.
    expect(codeOf(await confirm(challenge.requestId, await other1.sign(challenge.payloadToSign), keep.authorization))).toBe('INVALID_SIGNATURE');
    const result = await confirm(challenge.requestId, await keep.sign(challenge.payloadToSign), keep.authorization);
    expect(result.errors).toBeUndefined();
    expect(result.data!.confirmRevocation.session).toMatchObject({ id: keep.id, status: 'ACTIVE' });
    expect(result.data!.confirmRevocation.revokedSessions.map((s) => s.id).sort()).toEqual([other1.id, other2.id].sort());
  });

  it('revokes a credential with a signed challenge', async () => {
    const owner = await createIdentity(t);
    const phone = await createBrowserSession(t, owner);
    const credential = await t.db.prisma.credential.create({ data: { identityId: owner.slice(9), type: 'PASSKEY', identifiers: ['key-1'] } });
    const requested = await t.graphql<{ revokeCredential: { challenge: { requestId: string; payloadToSign: string; type: string } } }>(
      `mutation ($input: RevokeCredentialInput!) { revokeCredential(input: $input) { challenge { requestId payloadToSign type } } }`,
      { input: { credentialId: `Credential:${credential.id}` } },
      { authorization: phone.authorization },
    );
    const challenge = requested.data!.revokeCredential.challenge;
    expect(challenge.type).toBe('PASSKEY');
    const result = await confirm(challenge.requestId, await phone.sign(challenge.payloadToSign), phone.authorization);
    expect(result.data!.confirmRevocation).toMatchObject({ operation: 'REVOKE_CREDENTIAL', credential: { id: `Credential:${credential.id}`, revokedAt: expect.any(String) } });
  });

  it('delivers a server-made key sealed with HPKE to an uncompressed client key, and that key signs', async () => {
    // The client's HPKE key: a non-extractable WebCrypto ECDH key; only its public half leaves.
    const hpkeKey = await webcrypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const publicRaw = Buffer.from(await webcrypto.subtle.exportKey('raw', hpkeKey.publicKey));
    expect(publicRaw[0]).toBe(0x04);
    const created = await t.graphql<{ createSession: { session: { id: string; signingPublicKey: string }; encryptedSessionSigningKey: string } }>(
      `mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id signingPublicKey } encryptedSessionSigningKey } }`,
      { input: { identityId, type: 'OAUTH', clientPublicKey: publicRaw.toString('hex') } },
    );
    expect(created.errors).toBeUndefined();
    const { session, encryptedSessionSigningKey } = created.data!.createSession;
    const sealed = Buffer.from(encryptedSessionSigningKey, 'base64url');

    // Opened with an independent HPKE implementation (@hpke/core).
    const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const recipient = await suite.createRecipientContext({
      recipientKey: hpkeKey as unknown as CryptoKeyPair,
      enc: sealed.subarray(0, 65),
      info: new TextEncoder().encode('sessiongraph session signing key v1'),
    });
    const secretKey = new Uint8Array(await recipient.open(sealed.subarray(65), new TextEncoder().encode(session.id)));
    expect(secretKey).toHaveLength(32);
    expect(Buffer.from(p256.getPublicKey(secretKey, true)).toString('hex')).toBe(session.signingPublicKey);
    // The stored copy is only the sealed one; the server kept no private key.
    const row = await t.db.prisma.session.findUniqueOrThrow({ where: { id: session.id.slice(8) }, select: { encryptedSigningKey: true } });
    expect(row.encryptedSigningKey).toBe(encryptedSessionSigningKey);

    const challenge = await requestRevocation(t, session.id, (await import('../support/app.js')).adminAuthorization);
    const signature = p256.sign(Buffer.from(challenge.payloadToSign, 'base64'), secretKey, { lowS: false });
    const result = await confirm(challenge.requestId, Buffer.from(signature).toString('base64'));
    expect(result.errors).toBeUndefined();
    expect(result.data!.confirmRevocation.session).toMatchObject({ id: session.id, status: 'REVOKED' });
  });

  it('lets exactly one of 50 concurrent confirmations win, every time', async () => {
    for (let round = 0; round < 3; round++) {
      const signer = await createBrowserSession(t, identityId);
      const target = await createBrowserSession(t, identityId);
      const challenge = await requestRevocation(t, target.id, signer.authorization);
      const signatures = await Promise.all(Array.from({ length: 50 }, () => signer.sign(challenge.payloadToSign)));
      const results = await Promise.all(signatures.map((signature) => confirm(challenge.requestId, signature, signer.authorization)));
      const won = results.filter((r) => !r.errors);
      expect(won, `round ${round}`).toHaveLength(1);
      expect(results.filter((r) => r.errors).map(codeOf)).toEqual(Array(49).fill('CHALLENGE_CONSUMED'));
      const consumed = await t.db.prisma.challenge.findUniqueOrThrow({ where: { requestId: challenge.requestId } });
      expect(consumed.signerSessionId).toBe(signer.id.slice(8));
    }
  });
});

describe('WebCrypto signatures', () => {
  it('verifies hundreds of them, high-S and low-S alike', async () => {
    const { verifyP256AnyEncoding } = await import('../../src/crypto/signature.js');
    const { parseSignature } = await import('../../src/revocation/signature-input.js');
    const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const publicKey = new Uint8Array(await webcrypto.subtle.exportKey('raw', pair.publicKey));
    const n = p256.Point.CURVE().n;
    let highS = 0;
    for (let i = 0; i < 300; i++) {
      const message = Buffer.from(`payload ${i} ${Math.random()}`);
      const raw = Buffer.from(await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, message));
      if (p256.Signature.fromBytes(raw, 'compact').s > n / 2n) highS++;
      const presented = parseSignature(raw.toString(i % 2 ? 'base64' : 'base64url'))!;
      expect(verifyP256AnyEncoding(publicKey, message, presented.signature)).toBe(true);
    }
    expect(highS).toBeGreaterThan(90); // about half
    expect(highS).toBeLessThan(210);
  });
});

export type { BrowserSession };
