// Tokens are 256 random bits, so a plain SHA-256 of one is as good as a slow password hash and
// costs nothing per request. Only digests are stored; comparisons take constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function sha256(value: string | Uint8Array): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A new secret: `prefix` + 43 base64url characters (256 bits). */
export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Constant-time check of a presented secret against a stored SHA-256 digest (hex or bytes). */
export function secretMatches(presented: string, storedDigest: string | Uint8Array): boolean {
  const expected = typeof storedDigest === 'string' ? Buffer.from(storedDigest, 'hex') : storedDigest;
  const actual = sha256(presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
