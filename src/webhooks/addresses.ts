// Which addresses a webhook may be sent to. A URL is resolved and every address it resolves to is
// checked, when an endpoint is saved and again before each attempt, and the attempt connects to
// the address that was checked (no second lookup a rebinding DNS server could answer differently).
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Never a receiver, whatever WEBHOOK_ALLOW_PRIVATE says: cloud metadata, unspecified, multicast, broadcast. */
const alwaysRefused = new BlockList();
alwaysRefused.addAddress('169.254.169.254'); // AWS, GCP, Azure, … instance metadata
alwaysRefused.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
alwaysRefused.addSubnet('0.0.0.0', 8); // "this network", 0.0.0.0
alwaysRefused.addSubnet('224.0.0.0', 4); // multicast
alwaysRefused.addSubnet('240.0.0.0', 4); // reserved, and 255.255.255.255
alwaysRefused.addAddress('::', 'ipv6');
alwaysRefused.addSubnet('ff00::', 8, 'ipv6'); // multicast

/** Refused unless WEBHOOK_ALLOW_PRIVATE=true: this host and networks that are not the internet. */
const privateNetworks = new BlockList();
privateNetworks.addSubnet('127.0.0.0', 8); // loopback
privateNetworks.addSubnet('10.0.0.0', 8); // RFC 1918
privateNetworks.addSubnet('172.16.0.0', 12);
privateNetworks.addSubnet('192.168.0.0', 16);
privateNetworks.addSubnet('100.64.0.0', 10); // CGNAT (RFC 6598)
privateNetworks.addSubnet('169.254.0.0', 16); // link-local
privateNetworks.addSubnet('192.0.0.0', 24); // IETF protocol assignments
privateNetworks.addSubnet('198.18.0.0', 15); // benchmarking
privateNetworks.addAddress('::1', 'ipv6');
privateNetworks.addSubnet('fc00::', 7, 'ipv6'); // unique local (ULA)
privateNetworks.addSubnet('fe80::', 10, 'ipv6'); // link-local

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!match) return undefined;
  if (match[1]) return match[1];
  const high = parseInt(match[2]!, 16);
  const low = parseInt(match[3]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** Why this address may not receive webhooks, or undefined when it may. */
export function addressRefusal(address: string, allowPrivate: boolean): string | undefined {
  const inner = isIP(address) === 6 ? embeddedIpv4(address) : undefined;
  if (inner) return addressRefusal(inner, allowPrivate);
  const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (alwaysRefused.check(address, type)) return `${address} is a metadata, unspecified, multicast or reserved address`;
  if (!allowPrivate && privateNetworks.check(address, type)) {
    return `${address} is a loopback, private, link-local or CGNAT address (WEBHOOK_ALLOW_PRIVATE=true allows it)`;
  }
  return undefined;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** How a host name becomes addresses (the system resolver; tests hand in their own). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => ({ address: entry.address, family: entry.family as 4 | 6 }));

/** A URL, address or name that may not receive webhooks: the message says why. */
export class RefusedAddress extends Error {}

/** A name that resolves to nothing now: refused at delivery, but a receiver may be registered before its DNS exists. */
export class UnresolvedHost extends RefusedAddress {}

/**
 * The address to connect to for `hostname`, after checking every address it resolves to: one
 * refused address refuses the URL (a name that also points inside would let a later lookup pick it).
 */
export async function checkedAddress(hostname: string, allowPrivate: boolean, resolve: Resolver = systemResolver): Promise<ResolvedAddress> {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(bare)) {
    addresses = [{ address: bare, family: isIP(bare) as 4 | 6 }];
  } else {
    try {
      addresses = await resolve(bare);
    } catch (error) {
      throw new UnresolvedHost(`${bare} does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (addresses.length === 0) throw new UnresolvedHost(`${bare} does not resolve`);
  }
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, allowPrivate);
    if (refusal) throw new RefusedAddress(bare === address ? refusal : `${bare} resolves to ${refusal}`);
  }
  return addresses[0]!;
}
