// The document a signed request's signature covers. It binds everything that makes the request what
// it is — operation, account, target, this request's id, its lifetime and this server — so a
// signature cannot be replayed for another target, account, time or server. Serialized as canonical
// JSON (keys sorted, no spaces) and handed out base64-encoded; the server verifies against its own
// stored copy, never against bytes a client sends back.
import type { ChallengeOperation } from '../generated/prisma/enums.js';

export const payloadDomain = 'sessiongraph/signed-request';
export const payloadVersion = 1;

export interface ChallengeFacts {
  operation: ChallengeOperation;
  /** Global ids: `Identity:<uuid>`, `Session:<uuid>` / `Credential:<uuid>`. */
  identityId: string;
  targetId: string;
  requestId: string;
  issuedAt: Date;
  expiresAt: Date;
  audience: string;
  /** ADD_CREDENTIAL: what is added, so the signature covers exactly that credential. */
  credential?: { type: string; identifiers: string[]; nickname: string | null };
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The bytes to sign, as base64 (what Challenge.payloadToSign carries). */
export function challengePayload(facts: ChallengeFacts): string {
  const document = {
    domain: payloadDomain,
    version: payloadVersion,
    operation: facts.operation,
    identityId: facts.identityId,
    targetId: facts.targetId,
    requestId: facts.requestId,
    issuedAt: facts.issuedAt.toISOString(),
    expiresAt: facts.expiresAt.toISOString(),
    audience: facts.audience,
    credential: facts.credential,
  };
  return Buffer.from(canonicalJson(document), 'utf8').toString('base64');
}
