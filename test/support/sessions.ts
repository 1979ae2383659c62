// Sessions the way a browser makes them: a non-extractable WebCrypto P-256 key whose public half is
// sent (compressed) to createSession, and a bearer token that comes back once.
import { webcrypto } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { expect } from 'vitest';
import type { TestApp } from './app.js';

export interface BrowserSession {
  id: string;
  token: string;
  authorization: string;
  privateKey: webcrypto.CryptoKey;
  /** WebCrypto ECDSA signature (r||s, 64 bytes) over the bytes of a base64 payload, base64. */
  sign(payloadToSign: string): Promise<string>;
}

export async function newBrowserKey(): Promise<{ privateKey: webcrypto.CryptoKey; compressedHex: string }> {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const raw = new Uint8Array(await webcrypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, compressedHex: p256.Point.fromBytes(raw).toHex(true) };
}

export async function webCryptoSign(privateKey: webcrypto.CryptoKey, payloadToSign: string): Promise<Buffer> {
  const signature = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, Buffer.from(payloadToSign, 'base64'));
  return Buffer.from(signature);
}

export async function createIdentity(t: TestApp, traits: Record<string, unknown> = {}): Promise<string> {
  const result = await t.graphql<{ createIdentity: { identity: { id: string } } }>(
    `mutation ($input: CreateIdentityInput!) { createIdentity(input: $input) { identity { id } } }`,
    { input: { traits, metadataAdmin: { note: 'admins only' } } },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createIdentity.identity.id;
}

export async function createBrowserSession(t: TestApp, identityId: string, extra: Record<string, unknown> = {}): Promise<BrowserSession> {
  const key = await newBrowserKey();
  const result = await t.graphql<{ createSession: { session: { id: string }; sessionToken: string } }>(
    `mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id } sessionToken } }`,
    { input: { identityId, type: 'PASSKEY', clientPublicKey: key.compressedHex, expiresAt: new Date(Date.now() + 86_400_000).toISOString(), ...extra } },
  );
  expect(result.errors).toBeUndefined();
  const { session, sessionToken } = result.data!.createSession;
  return {
    id: session.id,
    token: sessionToken,
    authorization: `Bearer ${sessionToken}`,
    privateKey: key.privateKey,
    sign: async (payload) => (await webCryptoSign(key.privateKey, payload)).toString('base64'),
  };
}

export const revokeSessionMutation = `mutation ($input: RevokeSessionInput!) {
  revokeSession(input: $input) { challenge { requestId payloadToSign expiresAt type operation } }
}`;

export const confirmMutation = `mutation ($input: ConfirmRevocationInput!) {
  confirmRevocation(input: $input) {
    operation
    session { id status revokedAt revokedBySessionId }
    revokedSessions { id status }
    credential { id revokedAt }
  }
}`;

export interface Challenge {
  requestId: string;
  payloadToSign: string;
  expiresAt: string;
  type: string | null;
  operation: string;
}

export async function requestRevocation(t: TestApp, sessionId: string, authorization: string): Promise<Challenge> {
  const result = await t.graphql<{ revokeSession: { challenge: Challenge } }>(revokeSessionMutation, { input: { sessionId } }, { authorization });
  expect(result.errors).toBeUndefined();
  return result.data!.revokeSession.challenge;
}
