// Our signatures are Standard Webhooks' own: the reference library signs the same bytes alike.
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signatureHeader } from '../../src/webhooks/signing.js';

describe('webhook signatures', () => {
  it('match what the standardwebhooks library signs, one per secret', () => {
    const [first, second] = [newWebhookSecret(), newWebhookSecret()];
    expect(Buffer.from(first.slice('whsec_'.length), 'base64')).toHaveLength(32);
    const body = JSON.stringify({ type: 'session.revoked', data: { note: 'ünïcode ✓' } });
    const timestamp = 1_796_400_000;
    const expected = [first, second].map((secret) => new StandardWebhook(secret).sign('msg_1', new Date(timestamp * 1000), body));
    expect(signatureHeader([first, second], 'msg_1', timestamp, body)).toBe(expected.join(' '));
  });
});
