// ECDSA P-256 / SHA-256 verification for signed requests. Accepts what clients actually send:
// WebCrypto's 64-byte r||s (IEEE P1363) and ASN.1 DER, high-S as well as low-S (WebCrypto does not
// normalize S, so about half of its signatures are high-S; ECDSA on P-256 has no malleability rule).
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';

export type SignatureEncoding = 'compact' | 'der';

/**
 * True when `signature` (in `encoding`) is a valid signature of sha256(`message`) by `publicKey`
 * (SEC1, compressed or not). Never throws: malformed input of any kind is simply not valid.
 */
export function verifyP256(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  encoding: SignatureEncoding,
): boolean {
  try {
    // r||s goes to OpenSSL (a tenth of the pure-JS cost: a confirmation tries every candidate key);
    // DER stays with noble, whose parser is the strict one the Wycheproof vectors hold it to.
    if (encoding === 'compact') {
      const key = nativeKey(publicKey);
      // Handed over as the DER we write from r and s, with the key object itself: Node's
      // { key, dsaEncoding: 'ieee-p1363' } route cost about as much again as the verification.
      return key !== undefined && signature.length === 64 && verify('sha256', message, key, compactToDer(signature));
    }
    return p256.verify(signature, message, publicKey, { lowS: false, prehash: true, format: encoding });
  } catch {
    return false;
  }
}

/** A DER INTEGER of a 32-byte big-endian unsigned number: leading zeros dropped, a zero byte before a high bit. */
function derInteger(bytes: Uint8Array): number[] {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const value = Array.from(bytes.subarray(start));
  if (value[0]! & 0x80) value.unshift(0);
  return [0x02, value.length, ...value];
}

/** r||s (64 bytes) as the DER SEQUENCE of two INTEGERs that OpenSSL reads. */
function compactToDer(signature: Uint8Array): Buffer {
  const body = [...derInteger(signature.subarray(0, 32)), ...derInteger(signature.subarray(32))];
  return Buffer.from([0x30, body.length, ...body]);
}

// SubjectPublicKeyInfo for a P-256 point, before the point's bytes: compressed (33) or not (65).
const spkiPrefix = new Map([
  [33, Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex')],
  [65, Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')],
]);
const nativeKeys = new Map<string, KeyObject | undefined>();

/** The point as OpenSSL's key (imported once), or undefined when it is not a P-256 point. */
function nativeKey(publicKey: Uint8Array): KeyObject | undefined {
  const hex = Buffer.from(publicKey).toString('hex');
  if (nativeKeys.has(hex)) return nativeKeys.get(hex);
  let key: KeyObject | undefined;
  const prefix = spkiPrefix.get(publicKey.length);
  try {
    // OpenSSL refuses a point off the curve (and a compressed x with no root): no check of our own,
    // whose pure-JS square root cost as much as the import (a confirmation imports every new signer's key).
    key = prefix ? createPublicKey({ key: Buffer.concat([prefix, publicKey]), format: 'der', type: 'spki' }) : undefined;
  } catch {
    key = undefined;
  }
  if (nativeKeys.size >= 10_000) nativeKeys.clear();
  nativeKeys.set(hex, key);
  return key;
}

/** The encodings a raw signature could be in: r||s when 64 bytes, DER when it starts with SEQUENCE. */
export function candidateEncodings(signature: Uint8Array): SignatureEncoding[] {
  const encodings: SignatureEncoding[] = [];
  if (signature.length === 64) encodings.push('compact');
  if (signature[0] === 0x30) encodings.push('der');
  return encodings;
}

/** Verifies a signature whose encoding the sender did not say. */
export function verifyP256AnyEncoding(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return candidateEncodings(signature).some((encoding) => verifyP256(publicKey, message, signature, encoding));
}
