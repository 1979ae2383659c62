// A session's signing key. A compressed client key (02/03…) means the client generated its own key
// pair and keeps the private half (a non-extractable WebCrypto key). An uncompressed one (04…) is
// Grid's legacy delivery: the server generates the pair and hands the private key back once,
// sealed to the client's key with HPKE, so only that client can open it.
import { p256 } from '@noble/curves/nist.js';
import { hpkeSeal } from './hpke.js';

export const sessionKeyHpkeInfo = new TextEncoder().encode('sessiongraph session signing key v1');

export interface SessionKeys {
  /** SEC1 compressed public key to store. */
  publicKey: Uint8Array<ArrayBuffer>;
  encryptedSessionSigningKey?: string;
}

/** `clientPublicKey`: a checked P-256 point, SEC1, in the form the client sent it. */
export function sessionKeys(clientPublicKey: Uint8Array, sessionGlobalId: string): SessionKeys {
  if (clientPublicKey.length === 33) return { publicKey: Uint8Array.from(clientPublicKey) };
  const clientKey = p256.Point.fromBytes(clientPublicKey);
  const secretKey = p256.utils.randomSecretKey();
  const publicKey = Uint8Array.from(p256.getPublicKey(secretKey, true));
  const sealed = hpkeSeal(clientKey.toBytes(false), secretKey, sessionKeyHpkeInfo, new TextEncoder().encode(sessionGlobalId));
  secretKey.fill(0); // the server keeps no copy
  return { publicKey, encryptedSessionSigningKey: sealed.toString('base64url') };
}
