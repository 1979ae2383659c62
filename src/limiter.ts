// Rate limits where failing or guessing costs us: failed authentications and signature
// confirmations. Over a limit is HTTP 429 with Retry-After.
//
// Failed authentications count per client address and per network (the address's /24 for IPv4,
// /64 for IPv6, by default). A credential is always checked first, so a correct one gets in
// whatever others did from its address, its network or against its token id; a wrong one past
// either limit is answered 429. A credential of ours that has ended (a revoked session's token, an
// expired JWT) is no guess and is not counted: it is answered 401 every time. Failures naming one
// API token id are counted too, from however many addresses, but only for the operator to see (a
// metric and a log warning): the secrets are 256 random bits (ADMIN_TOKEN at least 32 characters),
// so locking an id out would protect nothing and only let anyone who knows the id (`admin` is
// public) deny its owner service.
import { isIP } from 'node:net';
import { GraphQLError } from 'graphql';
import type { Caller } from './auth/caller.js';
import type { LimitsConfig } from './config.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { RateLimitStore } from './rate-limit.js';

export function rateLimited(what: string, resetMs: number): GraphQLError {
  const seconds = Math.max(1, Math.ceil(resetMs / 1000));
  return new GraphQLError(`Too many ${what}; try again in ${seconds} s`, {
    extensions: { code: 'RATE_LIMITED', retryAfterSeconds: seconds, http: { status: 429, headers: { 'retry-after': String(seconds) } } },
  });
}

/** An IPv6 address as its eight 16-bit groups, or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  // A zone id names an interface, not part of the address; a trailing dotted quad is two groups.
  const text = address.split('%')[0]!.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const front = parse(head);
  const back = parse(rest ?? '');
  const missing = 8 - front.length - back.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return undefined;
  return [...front, ...Array<number>(missing).fill(0), ...back];
}

/** The network an address belongs to, as `<first address>/<prefix>`; undefined for what is not an IP address. */
export function networkOf(address: string, ipv4Prefix: number, ipv6Prefix: number): string | undefined {
  const family = isIP(address.split('%')[0]!);
  if (family === 4) {
    const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
    const size = 2 ** (32 - ipv4Prefix);
    const first = Math.floor(value / size) * size;
    return `${[24, 16, 8, 0].map((shift) => Math.floor(first / 2 ** shift) % 256).join('.')}/${ipv4Prefix}`;
  }
  if (family !== 6) return undefined;
  const groups = ipv6Groups(address);
  if (!groups) return undefined;
  const masked = groups.map((group, i) => {
    const bits = Math.max(0, Math.min(16, ipv6Prefix - i * 16));
    return bits === 0 ? 0 : group & (0xffff << (16 - bits)) & 0xffff;
  });
  return `${masked.map((group) => group.toString(16)).join(':')}/${ipv6Prefix}`;
}

export interface Limiter {
  /** Counts a wrong credential; the error to answer with (429 once its address or network is past its limit). */
  authenticationFailed(address: string, tokenId: string | undefined, error: GraphQLError): Promise<GraphQLError>;
  /** Counts one confirmRevocation by this caller, refusing it past the limit. */
  confirmation(caller: Caller): Promise<void>;
}

export function createLimiter(
  store: RateLimitStore,
  limits: Pick<
    LimitsConfig,
    'rateLimitWindowMs' | 'authFailuresPerWindow' | 'networkAuthFailuresPerWindow' | 'ipv4NetworkPrefix' | 'ipv6NetworkPrefix' | 'confirmationsPerWindow'
  >,
  metrics?: Metrics,
  logger?: Logger,
): Limiter {
  const refused = (limit: string, what: string, resetMs: number) => {
    metrics?.rateLimitRefusals.inc({ limit });
    return rateLimited(what, resetMs);
  };
  const window = limits.rateLimitWindowMs;
  return {
    async authenticationFailed(address, tokenId, error) {
      const network = networkOf(address, limits.ipv4NetworkPrefix, limits.ipv6NetworkPrefix);
      const [byAddress, byNetwork, byToken] = await Promise.all([
        store.hit(`auth:address:${address}`, window),
        network === undefined ? undefined : store.hit(`auth:network:${network}`, window),
        tokenId === undefined ? undefined : store.hit(`auth:token:${tokenId}`, window),
      ]);
      if (byToken && byToken.count > limits.authFailuresPerWindow) {
        metrics?.apiTokenFailuresPastLimit.inc();
        if (byToken.count === limits.authFailuresPerWindow + 1) {
          logger?.warn('repeated failed authentications naming one API token id (its owner is not locked out)', {
            tokenId,
            failures: byToken.count,
            windowSeconds: window / 1000,
          });
        }
      }
      if (byAddress.count > limits.authFailuresPerWindow) return refused('failed_authentications', 'failed authentications', byAddress.resetMs);
      if (byNetwork && byNetwork.count > limits.networkAuthFailuresPerWindow) {
        return refused('network_failed_authentications', 'failed authentications from this network', byNetwork.resetMs);
      }
      return error;
    },
    async confirmation(caller) {
      const key = caller.kind === 'session' ? `confirm:session:${caller.sessionId}` : `confirm:client:${caller.clientId}`;
      const { count, resetMs } = await store.hit(key, window);
      if (count > limits.confirmationsPerWindow) throw refused('confirmations', 'signature confirmations', resetMs);
    },
  };
}
