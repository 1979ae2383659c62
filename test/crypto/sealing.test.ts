// Secrets at rest: sealed under TOKEN_KEY_SECRET, per purpose and bound to their row.
import { describe, expect, it } from 'vitest';
import { seal, unseal } from '../../src/crypto/sealing.js';
import { sealWebhookSecret, unsealWebhookSecret } from '../../src/webhooks/signing.js';

const secret = 'a-token-key-secret-of-at-least-32-characters';

describe('sealing', () => {
  it('opens only with the same secret, purpose and row', () => {
    const sealed = seal(secret, 'purpose one', 'the plaintext', 'row-1');
    expect(sealed).not.toContain('plaintext');
    expect(unseal(secret, 'purpose one', sealed, 'row-1')).toBe('the plaintext');
    expect(() => unseal(`${secret}!`, 'purpose one', sealed, 'row-1')).toThrow();
    expect(() => unseal(secret, 'purpose two', sealed, 'row-1')).toThrow();
    expect(() => unseal(secret, 'purpose one', sealed, 'row-2')).toThrow();
    // A fresh nonce each time: the same plaintext never seals the same way twice.
    expect(seal(secret, 'purpose one', 'the plaintext', 'row-1')).not.toBe(sealed);
  });

  it('keeps webhook secrets apart from the token signing keys and from other endpoints', () => {
    const sealed = sealWebhookSecret(secret, 'whsec_abc', 'endpoint-1');
    expect(unsealWebhookSecret(secret, sealed, 'endpoint-1')).toBe('whsec_abc');
    expect(() => unsealWebhookSecret(secret, sealed, 'endpoint-2')).toThrow();
    expect(() => unseal(secret, 'session token signing keys v1', sealed, 'endpoint-1')).toThrow();
  });
});
