// What a client may send as `signature`: base64 or base64url of a P-256 signature, 64-byte r||s
// (WebCrypto) or DER; or Grid's newer stamp, base64url JSON { publicKey, scheme, signature } with the
// public key (compressed hex) and a DER signature in hex. Anything else is not a signature.
import { p256 } from '@noble/curves/nist.js';

export interface PresentedSignature {
  signature: Uint8Array;
  /** Set by a stamp: the key that claims to have signed (compressed SEC1). */
  publicKey?: Uint8Array;
}

const base64 = /^[A-Za-z0-9+/]+={0,2}$/;
const base64url = /^[A-Za-z0-9_-]+$/;

function decode(text: string): Uint8Array | null {
  if (base64.test(text) && text.length % 4 === 0) return Buffer.from(text, 'base64');
  if (base64url.test(text)) return Buffer.from(text, 'base64url');
  return null;
}

function stamp(bytes: Uint8Array): PresentedSignature | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return null;
  }
  const { publicKey, scheme, signature } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof publicKey !== 'string' || typeof signature !== 'string' || typeof scheme !== 'string') return null;
  if (!/P256/i.test(scheme) || !/^[0-9a-fA-F]+$/.test(signature) || signature.length % 2 !== 0) return null;
  try {
    return {
      signature: Buffer.from(signature, 'hex'),
      publicKey: p256.Point.fromHex(publicKey.toLowerCase()).toBytes(true),
    };
  } catch {
    return null;
  }
}

/** The signature in `input`, or null when it is not one in any accepted form. */
export function parseSignature(input: string): PresentedSignature | null {
  const text = input.trim();
  if (text.length === 0 || text.length > 4096) return null;
  const bytes = decode(text);
  if (!bytes || bytes.length === 0) return null;
  // A stamp is JSON; a raw signature may start with the byte of "{" too, so fall back to it.
  return (bytes[0] === 0x7b && stamp(bytes)) || { signature: bytes };
}
