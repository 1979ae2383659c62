// Checks on input that GraphQL's types cannot express, shared by every caller of the domain (the
// resolvers, the planned writes, the vendor routes). Each failure is a BAD_USER_INPUT naming the
// field (`input.expiresAt`), raised before anything is written.
import { p256 } from '@noble/curves/nist.js';
import { p256Key } from '../crypto/signature.js';
import { badUserInput } from '../errors.js';

export function invalidField(field: string, problem: string) {
  return badUserInput(`${field}: ${problem}`, { field });
}

/** A JSON object (not an array, string or null). */
export function jsonObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidField(field, 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function optionalJsonObject(value: unknown, field: string): Record<string, unknown> | undefined {
  return value === null || value === undefined ? undefined : jsonObject(value, field);
}

export function nonEmpty(value: string, field: string, maxLength = 1024): string {
  const trimmed = value.trim();
  if (!trimmed) throw invalidField(field, 'must not be empty');
  if (trimmed.length > maxLength) throw invalidField(field, `must be at most ${maxLength} characters`);
  return trimmed;
}

export function optionalText(value: string | null | undefined, field: string, maxLength = 1024): string | undefined {
  return value === null || value === undefined ? undefined : nonEmpty(value, field, maxLength);
}

export function future(value: Date | null | undefined, field: string, now: Date): Date | undefined {
  if (value === null || value === undefined) return undefined;
  if (value <= now) throw invalidField(field, `must be in the future (got ${value.toISOString()})`);
  return value;
}

/**
 * A P-256 public key in hex, SEC1 compressed (02/03, 33 bytes) or uncompressed (04, 65 bytes),
 * that is a point on the curve. Returns its bytes as sent (the form says how the key is delivered).
 */
export function p256PublicKey(hex: string, field: string): Uint8Array<ArrayBuffer> {
  const clean = hex.trim().replace(/^0x/i, '');
  if (!/^(0[23][0-9a-fA-F]{64}|04[0-9a-fA-F]{128})$/.test(clean)) {
    throw invalidField(
      field,
      'must be a P-256 public key in hex: 66 digits starting 02 or 03 (compressed) or 130 starting 04 (uncompressed)',
    );
  }
  const bytes = Uint8Array.from(Buffer.from(clean, 'hex'));
  // A compressed key is the session's own signing key: OpenSSL's import checks it, and the key it
  // makes is kept for the session's signatures (crypto/signature.ts). An uncompressed one only
  // receives the key the server makes (crypto/session-keys.ts).
  const onCurve = bytes.length === 33 ? p256Key(bytes) !== undefined : nobleAccepts(bytes);
  if (!onCurve) throw invalidField(field, 'is not a point on the P-256 curve');
  return bytes;
}

function nobleAccepts(point: Uint8Array): boolean {
  try {
    p256.Point.fromBytes(point);
    return true;
  } catch {
    return false;
  }
}

const addressVias = ['email', 'sms'] as const;
export function addressVia(value: string, field: string): (typeof addressVias)[number] {
  const via = value.trim().toLowerCase();
  if (!(addressVias as readonly string[]).includes(via)) throw invalidField(field, `must be one of ${addressVias.join(', ')}`);
  return via as (typeof addressVias)[number];
}
