// The signers' keys as OpenSSL imports them (kept, least recently used going first) and r||s
// signatures handed to it as DER: what verifyP256 answers does not depend on either.
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { p256Key, verifyP256 } from '../../src/crypto/signature.js';

const compressed = (secretKey: Uint8Array) => p256.getPublicKey(secretKey, true);
const message = new TextEncoder().encode('a challenge to sign');

describe('p256Key', () => {
  it('imports a point once, and refuses what is not one without leaving stacks off', () => {
    const key = compressed(p256.utils.randomSecretKey());
    const imported = p256Key(key);
    expect(imported?.asymmetricKeyType).toBe('ec');
    expect(p256Key(Uint8Array.from(key))).toBe(imported);
    const limit = Error.stackTraceLimit;
    // x = 2^256 - 1 is no field element; 02 || 0…01 has no root; a 32-byte key is no SEC1 point.
    expect(p256Key(Uint8Array.from(Buffer.from(`02${'ff'.repeat(32)}`, 'hex')))).toBeUndefined();
    expect(p256Key(Uint8Array.from(Buffer.from(`02${'00'.repeat(31)}01`, 'hex')))).toBeUndefined();
    expect(p256Key(key.subarray(1))).toBeUndefined();
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it('keeps the 10,000 keys used last', () => {
    const kept = compressed(p256.utils.randomSecretKey());
    const dropped = compressed(p256.utils.randomSecretKey());
    const keptKey = p256Key(kept);
    const droppedKey = p256Key(dropped);
    // Other keys' bytes (not all on the curve: a refusal is kept as well); the first key is used again halfway.
    const other = Buffer.alloc(33, 2);
    for (let i = 0; i < 10_000; i++) {
      other.writeUInt32BE(i, 29);
      p256Key(other);
      if (i === 5_000) p256Key(kept);
    }
    expect(p256Key(kept)).toBe(keptKey);
    const again = p256Key(dropped);
    expect(again).not.toBe(droppedKey);
    expect(again?.equals(droppedKey!)).toBe(true);
  });
});

describe('verifyP256 with r||s', () => {
  it('accepts r and s of every length DER gives them, and nothing altered', () => {
    const secretKey = p256.utils.randomSecretKey();
    const publicKey = compressed(secretKey);
    // Signatures until r and s have each been short (a leading zero byte) and high (a zero byte before them).
    const seen = new Set<string>();
    for (let i = 0; seen.size < 4 && i < 5_000; i++) {
      const signed = new TextEncoder().encode(`challenge ${i}`);
      const signature = p256.sign(signed, secretKey, { lowS: false });
      for (const [name, at] of [['r', 0], ['s', 32]] as const) {
        if (signature[at] === 0) seen.add(`${name} short`);
        if (signature[at]! & 0x80) seen.add(`${name} high`);
      }
      expect(verifyP256(publicKey, signed, signature, 'compact')).toBe(true);
      const altered = Uint8Array.from(signature);
      altered[63] = altered[63]! ^ 1;
      expect(verifyP256(publicKey, signed, altered, 'compact')).toBe(false);
    }
    expect([...seen].sort()).toEqual(['r high', 'r short', 's high', 's short']);
  });

  it('refuses a signature of r = 0 or s = 0, and one of the wrong length', () => {
    const secretKey = p256.utils.randomSecretKey();
    const signature = p256.sign(message, secretKey, { lowS: false });
    const zeroR = Uint8Array.from(signature).fill(0, 0, 32);
    const zeroS = Uint8Array.from(signature).fill(0, 32, 64);
    expect(verifyP256(compressed(secretKey), message, zeroR, 'compact')).toBe(false);
    expect(verifyP256(compressed(secretKey), message, zeroS, 'compact')).toBe(false);
    expect(verifyP256(compressed(secretKey), message, signature.subarray(0, 63), 'compact')).toBe(false);
  });
});
