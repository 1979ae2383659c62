// Checks on mutation input that GraphQL's types cannot express. Each failure is a BAD_USER_INPUT
// naming the field (`input.expiresAt`), raised before anything is written.
import { p256 } from '@noble/curves/nist.js';

export { future, invalidField, jsonObject, nonEmpty, optionalJsonObject, optionalText } from '../domain/input.js';
import { invalidField } from '../domain/input.js';

/**
 * A P-256 public key in hex, SEC1 compressed (02/03, 33 bytes) or uncompressed (04, 65 bytes),
 * that is a point on the curve. Returns its bytes as sent (the form says how the key is delivered).
 */
export function p256PublicKey(hex: string, field: string) {
  const clean = hex.trim().replace(/^0x/i, '');
  if (!/^(0[23][0-9a-fA-F]{64}|04[0-9a-fA-F]{128})$/.test(clean)) {
    throw invalidField(
      field,
      'must be a P-256 public key in hex: 66 digits starting 02 or 03 (compressed) or 130 starting 04 (uncompressed)',
    );
  }
  try {
    return p256.Point.fromHex(clean.toLowerCase()).toBytes(clean.length === 66);
  } catch {
    throw invalidField(field, 'is not a point on the P-256 curve');
  }
}

const addressVias = ['email', 'sms'] as const;
export function addressVia(value: string, field: string): (typeof addressVias)[number] {
  const via = value.trim().toLowerCase();
  if (!(addressVias as readonly string[]).includes(via)) throw invalidField(field, `must be one of ${addressVias.join(', ')}`);
  return via as (typeof addressVias)[number];
}
