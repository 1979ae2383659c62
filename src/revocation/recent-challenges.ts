// Signed revocations of one session that this instance handed out, kept until confirmed or expired:
// their confirmation on this instance then needs no read first. What step one knew — the signed
// payload, the account, the target and the target's key — does not change; everything that can
// change (the challenge used, the signer revoked, its key, the account's state) the confirmation's
// one writing statement checks in the database, and any doubt sends it the usual way (service.ts).
export interface RecentChallenge {
  id: string;
  requestId: string;
  identityId: string;
  targetId: string;
  payloadToSign: string;
  expiresAt: Date;
  /** The target's own key: the signer the usual way tries first when the caller is not a session. */
  targetKey: Uint8Array;
}

export class RecentChallenges {
  private readonly byRequestId = new Map<string, RecentChallenge>();

  constructor(private readonly capacity = 10_000) {}

  remember(challenge: RecentChallenge, now: Date): void {
    // Oldest first (one lifetime for all): the expired go, then the oldest past the capacity.
    for (const [requestId, kept] of this.byRequestId) {
      if (kept.expiresAt > now && this.byRequestId.size < this.capacity) break;
      this.byRequestId.delete(requestId);
    }
    this.byRequestId.set(challenge.requestId, challenge);
  }

  /** The challenge, forgotten here (it is confirmed once, or the usual way). */
  take(requestId: string): RecentChallenge | undefined {
    const challenge = this.byRequestId.get(requestId);
    if (challenge) this.byRequestId.delete(requestId);
    return challenge;
  }
}
