// Rate limits where guessing pays: failed authentications and signature confirmations. Over a limit
// is HTTP 429 with Retry-After.
//
// Failed authentications count per client address and, for API tokens, per token id. A request
// is always checked first, so a correct credential from an address others failed from (one NAT, one
// office) still gets in; a wrong one from there is answered 429. Guesses at one token id's secret,
// from however many addresses, lock that id out: past the limit its credentials are not checked at
// all, except from addresses where the same token id authenticated lately (its owner's), which keep
// working through an attack on it.
import { GraphQLError } from 'graphql';
import type { Caller } from './auth/caller.js';
import type { LimitsConfig } from './config.js';
import type { Metrics } from './metrics.js';
import type { RateLimitStore } from './rate-limit.js';

export function rateLimited(what: string, resetMs: number): GraphQLError {
  const seconds = Math.max(1, Math.ceil(resetMs / 1000));
  return new GraphQLError(`Too many ${what}; try again in ${seconds} s`, {
    extensions: { code: 'RATE_LIMITED', retryAfterSeconds: seconds, http: { status: 429, headers: { 'retry-after': String(seconds) } } },
  });
}

/** How long an address stays its token's known address after it authenticated from there. */
const knownAddressMs = 24 * 60 * 60 * 1000;

export interface Limiter {
  /** Refuses, without checking it, a guess at a token id under attack from an address it was never used from. */
  beforeAuthentication(address: string, tokenId: string | undefined): Promise<void>;
  /** Counts a wrong credential; the error to answer with (429 once past a limit). */
  authenticationFailed(address: string, tokenId: string | undefined, error: GraphQLError): Promise<GraphQLError>;
  /** Remembers that this token id authenticated from this address. */
  authenticated(address: string, tokenId: string): Promise<void>;
  /** Counts one confirmRevocation by this caller, refusing it past the limit. */
  confirmation(caller: Caller): Promise<void>;
}

export function createLimiter(
  store: RateLimitStore,
  limits: Pick<LimitsConfig, 'rateLimitWindowMs' | 'authFailuresPerWindow' | 'confirmationsPerWindow'>,
  metrics?: Metrics,
): Limiter {
  const refused = (limit: string, what: string, resetMs: number) => {
    metrics?.rateLimitRefusals.inc({ limit });
    return rateLimited(what, resetMs);
  };
  // Marking a known address is a store write: once an hour per token and address is plenty.
  const marked = new Map<string, number>();
  const known = (tokenId: string, address: string) => `auth:known:${tokenId}:${address}`;
  return {
    async beforeAuthentication(address, tokenId) {
      if (tokenId === undefined) return;
      const { count, resetMs } = await store.peek(`auth:token:${tokenId}`);
      if (count < limits.authFailuresPerWindow) return;
      if ((await store.peek(known(tokenId, address))).count > 0) return;
      throw refused('api_token_guesses', 'failed authentications for this API token', resetMs);
    },
    async authenticationFailed(address, tokenId, error) {
      const [byAddress, byToken] = await Promise.all([
        store.hit(`auth:address:${address}`, limits.rateLimitWindowMs),
        tokenId === undefined ? undefined : store.hit(`auth:token:${tokenId}`, limits.rateLimitWindowMs),
      ]);
      const over = [byAddress, byToken].filter((c) => c && c.count > limits.authFailuresPerWindow);
      if (over.length === 0) return error;
      return refused('failed_authentications', 'failed authentications', Math.max(...over.map((c) => c!.resetMs)));
    },
    async authenticated(address, tokenId) {
      const key = known(tokenId, address);
      const now = Date.now();
      if ((marked.get(key) ?? 0) > now) return;
      if (marked.size > 10_000) marked.clear();
      marked.set(key, now + 60 * 60 * 1000);
      await store.hit(key, knownAddressMs);
    },
    async confirmation(caller) {
      const key = caller.kind === 'session' ? `confirm:session:${caller.sessionId}` : `confirm:client:${caller.clientId}`;
      const { count, resetMs } = await store.hit(key, limits.rateLimitWindowMs);
      if (count > limits.confirmationsPerWindow) throw refused('confirmations', 'signature confirmations', resetMs);
    },
  };
}
