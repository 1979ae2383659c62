// The client's address, for rate limits: the socket's, or what trusted proxies say in
// X-Forwarded-For (TRUST_PROXY). Entries a client wrote itself are never believed.
import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { TrustProxy } from '../config.js';

/** `::ffff:10.0.0.1` is 10.0.0.1: one client, one key. */
function normalize(address: string): string {
  const trimmed = address.trim();
  return trimmed.toLowerCase().startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
}

function trustedSet(list: string[]): BlockList {
  const set = new BlockList();
  for (const entry of list) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) set.addAddress(address, type);
    else set.addSubnet(address, Number(bits), type);
  }
  return set;
}

/**
 * Finds the client's address from the socket and X-Forwarded-For. Only entries added by trusted
 * proxies count: the client can write anything it likes into the header's left end.
 */
export function clientAddressResolver(trust: TrustProxy): (request: Request, req: IncomingMessage | undefined) => string {
  const trusted = trust.kind === 'addresses' ? trustedSet(trust.list) : undefined;
  const isTrusted = (address: string) => {
    const family = isIP(address);
    return family !== 0 && trusted!.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
  return (request, req) => {
    const socket = normalize(req?.socket?.remoteAddress ?? 'local');
    if (trust.kind === 'none') return socket;
    const forwarded = (request.headers.get('x-forwarded-for') ?? '').split(',').map(normalize).filter(Boolean);
    // The chain as the last proxy sees it: the client's claims, each proxy's addition, the socket.
    const chain = [...forwarded, socket];
    if (trust.kind === 'hops') return chain[Math.max(0, chain.length - 1 - trust.hops)]!;
    let index = chain.length - 1;
    while (index > 0 && isTrusted(chain[index]!)) index--;
    return chain[index]!;
  };
}
