import { describe, expect, it } from 'vitest';
import { parseSignature } from '../../src/revocation/signature-input.js';

describe('parseSignature', () => {
  it('takes a raw signature whose first byte happens to be "{"', () => {
    const raw = Buffer.alloc(64, 7);
    raw[0] = 0x7b;
    for (const text of [raw.toString('base64'), raw.toString('base64url')]) {
      const parsed = parseSignature(text);
      expect(parsed?.publicKey).toBeUndefined();
      expect(Buffer.from(parsed!.signature).equals(raw)).toBe(true);
    }
  });

  it.each(['', '   ', 'not base64!', '@@@@', 'a'.repeat(5000)])('refuses %j', (input) => {
    expect(parseSignature(input)).toBeNull();
  });
});
