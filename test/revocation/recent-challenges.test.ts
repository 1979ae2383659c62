import { describe, expect, it } from 'vitest';
import { RecentChallenges, type RecentChallenge } from '../../src/revocation/recent-challenges.js';

const at = (minutes: number) => new Date(Date.UTC(2026, 2, 1, 12, minutes));
const challenge = (requestId: string, expiresAt: Date): RecentChallenge => ({
  id: `id-${requestId}`, requestId, identityId: 'identity', targetId: 'target', payloadToSign: 'cGF5bG9hZA==', expiresAt, targetKey: new Uint8Array([2, 1]),
});

describe('RecentChallenges', () => {
  it('hands a challenge out once', () => {
    const recent = new RecentChallenges();
    recent.remember(challenge('a', at(5)), at(0));
    expect(recent.take('a')?.id).toBe('id-a');
    expect(recent.take('a')).toBeUndefined();
    expect(recent.take('never')).toBeUndefined();
  });

  it('forgets the expired as new ones come, and the oldest past its capacity', () => {
    const recent = new RecentChallenges(2);
    recent.remember(challenge('a', at(5)), at(0));
    recent.remember(challenge('b', at(6)), at(1));
    recent.remember(challenge('c', at(7)), at(2));
    expect(recent.take('a')).toBeUndefined();
    expect(recent.take('b')?.id).toBe('id-b');
    recent.remember(challenge('d', at(9)), at(4));
    recent.remember(challenge('e', at(15)), at(8));
    // c expired at 7 and d is one of two: e joins d.
    expect(recent.take('c')).toBeUndefined();
    expect(recent.take('d')?.id).toBe('id-d');
    expect(recent.take('e')?.id).toBe('id-e');
  });
});
