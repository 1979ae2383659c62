// Wycheproof's ECDSA P-256/SHA-256 vectors (kept in test/vectors/wycheproof) through our own verify function.
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { verifyP256, type SignatureEncoding } from '../../src/crypto/signature.js';
import { loadWycheproofSuite } from '../support/vectors.js';

const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));

const suites: [string, SignatureEncoding][] = [
  ['ecdsa_secp256r1_sha256_p1363_test.json', 'compact'],
  ['ecdsa_secp256r1_sha256_test.json', 'der'],
];

describe.each(suites)('Wycheproof %s', (file, encoding) => {
  const suite = loadWycheproofSuite(file);
  const outcomes = suite.testGroups.flatMap((group) =>
    group.tests.map((vector) => ({
      vector,
      accepted: verifyP256(hex(group.publicKey.uncompressed), hex(vector.msg), hex(vector.sig), encoding),
    })),
  );

  it('has vectors', () => {
    expect(outcomes.length).toBeGreaterThan(250);
  });

  it('accepts every valid signature, high-S ones included', () => {
    const rejected = outcomes.filter((o) => o.vector.result === 'valid' && !o.accepted).map((o) => `${o.vector.tcId} ${o.vector.comment}`);
    expect(rejected).toEqual([]);
  });

  it('rejects every invalid signature', () => {
    // No exceptions: every signature Wycheproof calls invalid is rejected. (High-S signatures
    // are all marked valid there; accepting them is what lets WebCrypto's signatures through.)
    const accepted = outcomes.filter((o) => o.vector.result === 'invalid' && o.accepted).map((o) => `${o.vector.tcId} ${o.vector.comment}`);
    expect(accepted).toEqual([]);
  });

  it('accepts the high-S signatures a default (low-S only) verifier would refuse, on purpose', () => {
    const n = p256.Point.CURVE().n;
    const highS = suite.testGroups.flatMap((group) =>
      group.tests
        .filter((v) => v.result === 'valid')
        .filter((v) => p256.Signature.fromBytes(hex(v.sig), encoding).s > n / 2n)
        .map((v) => ({ group, v })),
    );
    // 70 in the P1363 file, 71 in the DER file: about a third of the valid vectors.
    expect(highS.length).toBeGreaterThan(60);
    for (const { group, v } of highS) {
      const key = hex(group.publicKey.uncompressed);
      expect(verifyP256(key, hex(v.msg), hex(v.sig), encoding)).toBe(true);
      expect(p256.verify(hex(v.sig), hex(v.msg), key, { format: encoding })).toBe(false);
    }
  });

  it('decides the acceptable ones without throwing', () => {
    expect(outcomes.filter((o) => o.vector.result === 'acceptable').every((o) => typeof o.accepted === 'boolean')).toBe(true);
  });
});
