// ECDSA P-256 / SHA-256 verification for signed requests. Accepts what clients actually send:
// WebCrypto's 64-byte r||s (IEEE P1363) and ASN.1 DER, high-S as well as low-S (WebCrypto does not
// normalize S, so about half of its signatures are high-S; ECDSA on P-256 has no malleability rule).
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
    return p256.verify(signature, message, publicKey, { lowS: false, prehash: true, format: encoding });
  } catch {
    return false;
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
