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

// An API token as one bearer string, `<token id>.<secret>` — what the vendors' SDKs send as
// `Authorization: Bearer` (Clerk's secretKey, Kratos' admin access token). Token ids are `sgk_` and
// 20 base64url characters (or the built-in `admin`), so the form cannot be a session token (no
// dot) or a JWT (two dots, `eyJ` first).
const secretKeyShape = /^(sgk_[A-Za-z0-9_-]{20}|admin)\.(.+)$/s;

export function apiSecretKey(tokenId: string, secret: string): string {
  return `${tokenId}.${secret}`;
}

/** The token id and secret of a bearer string in secretKey form, or undefined. */
export function parseApiSecretKey(bearer: string): { tokenId: string; secret: string } | undefined {
  const match = secretKeyShape.exec(bearer);
  return match ? { tokenId: match[1]!, secret: match[2]! } : undefined;
}
