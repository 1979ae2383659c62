// Per-caller rate limits where guessing pays: failed authentications (per client address) and
// signature confirmations (per caller). Over the limit is HTTP 429 with Retry-After.
import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Caller } from '../auth/caller.js';
import type { LimitsConfig } from '../config.js';
import type { RateLimitStore } from '../rate-limit.js';

export function rateLimited(what: string, resetMs: number): GraphQLError {
  const seconds = Math.max(1, Math.ceil(resetMs / 1000));
  return new GraphQLError(`Too many ${what}; try again in ${seconds} s`, {
    extensions: { code: 'RATE_LIMITED', retryAfterSeconds: seconds, http: { status: 429, headers: { 'retry-after': String(seconds) } } },
  });
}

export interface Limiter {
  /** Refuses a client address that has failed to authenticate too often. */
  beforeAuthentication(address: string): Promise<void>;
  authenticationFailed(address: string): Promise<void>;
  /** Counts one confirmRevocation by this caller, refusing it past the limit. */
  confirmation(caller: Caller): Promise<void>;
}

export function createLimiter(store: RateLimitStore, limits: Pick<LimitsConfig, 'rateLimitWindowMs' | 'authFailuresPerWindow' | 'confirmationsPerWindow'>): Limiter {
  return {
    async beforeAuthentication(address) {
      const { count, resetMs } = await store.peek(`auth:${address}`);
      if (count >= limits.authFailuresPerWindow) throw rateLimited('failed authentications from this address', resetMs);
    },
    async authenticationFailed(address) {
      await store.hit(`auth:${address}`, limits.rateLimitWindowMs);
    },
    async confirmation(caller) {
      const key = caller.kind === 'session' ? `confirm:session:${caller.sessionId}` : `confirm:client:${caller.clientId}`;
      const { count, resetMs } = await store.hit(key, limits.rateLimitWindowMs);
      if (count > limits.confirmationsPerWindow) throw rateLimited('signature confirmations', resetMs);
    },
  };
}

/** The client's address: the socket's, or the first X-Forwarded-For hop when a trusted proxy sets it. */
export function clientAddress(request: Request, req: IncomingMessage | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return req?.socket?.remoteAddress ?? 'local';
}
