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
      const key = p256Key(publicKey);
      // Handed over as the DER we write from r and s, with the key object itself: Node's
      // { key, dsaEncoding: 'ieee-p1363' } route cost about as much again as the verification.
      return key !== undefined && signature.length === 64 && verify('sha256', message, key, compactToDer(signature));
    }
    return p256.verify(signature, message, publicKey, { lowS: false, prehash: true, format: encoding });
  } catch {
    return false;
  }
}

/** r||s (64 bytes) as the DER SEQUENCE of two INTEGERs that OpenSSL reads: each 32-byte big-endian
 * number with its leading zeros dropped and a zero byte before a high bit. */
function compactToDer(signature: Uint8Array): Buffer {
  const r = integerStart(signature, 0);
  const s = integerStart(signature, 32);
  const rLength = 32 - r.skip + r.pad;
  const sLength = 64 - s.skip + s.pad;
  const der = Buffer.allocUnsafe(6 + rLength + sLength);
  der[0] = 0x30;
  der[1] = 4 + rLength + sLength;
  der[2] = 0x02;
  der[3] = rLength;
  let at = 4;
  if (r.pad) der[at++] = 0;
  der.set(signature.subarray(r.skip, 32), at);
  at += 32 - r.skip;
  der[at++] = 0x02;
  der[at++] = sLength;
  if (s.pad) der[at++] = 0;
  der.set(signature.subarray(s.skip, 64), at);
  return der;
}

/** Where the number at `from` (32 bytes) starts once its leading zeros go (one stays for zero), and whether it needs a zero byte first. */
function integerStart(signature: Uint8Array, from: number): { skip: number; pad: number } {
  let skip = from;
  while (skip < from + 31 && signature[skip] === 0) skip++;
  return { skip, pad: signature[skip]! & 0x80 ? 1 : 0 };
}

// SubjectPublicKeyInfo for a P-256 point, before the point's bytes: compressed (33) or not (65).
const spkiPrefix = new Map([
  [33, Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex')],
  [65, Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')],
]);
// The points imported, least recently used first. Keyed by the key's bytes alone: an import is a
// function of them, so nothing here needs forgetting when a session's key changes or the session
// ends — whether a key may sign is the database's answer, re-checked under lock by the statement
// that acts on the signature (revocation/service.ts), never this map's.
const importedKeys = new Map<string, KeyObject | undefined>();
const importedKeyCapacity = 10_000;

/**
 * The point (SEC1) as OpenSSL's key, imported once and kept among the last 10,000 used, or
 * undefined when it is not a P-256 point. A login's key is checked by this import (domain/input.ts),
 * so a confirmation soon after finds its signer's key here.
 */
export function p256Key(publicKey: Uint8Array): KeyObject | undefined {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1');
  if (importedKeys.has(id)) {
    const kept = importedKeys.get(id);
    importedKeys.delete(id);
    importedKeys.set(id, kept);
    return kept;
  }
  const key = importPoint(publicKey);
  if (importedKeys.size >= importedKeyCapacity) importedKeys.delete(importedKeys.keys().next().value!);
  importedKeys.set(id, key);
  return key;
}

function importPoint(publicKey: Uint8Array): KeyObject | undefined {
  const prefix = spkiPrefix.get(publicKey.length);
  if (!prefix) return undefined;
  // Node's createPublicKey asks whether its input is a KeyObject or a CryptoKey by catching the
  // errors its native checks throw (four for a DER input); capturing their stacks was about a
  // third of the import: no stacks for the call (synchronous, the limit restored after).
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    // OpenSSL refuses a point off the curve (and a compressed x with no root): no check of our own,
    // whose pure-JS square root cost as much as the import (a confirmation imports every new signer's key).
    return createPublicKey({ key: Buffer.concat([prefix, publicKey]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
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
