/**
 * Which network addresses a remote fetch or a delivery may reach, and the
 * canonical form of a host name. Private, loopback, link-local, multicast
 * and other special-purpose ranges (IANA special-purpose registries) are
 * refused unless the operator allows private addresses; the check is made
 * on the addresses a name resolves to, not on the name, so a public name
 * that points at 127.0.0.1 is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";

const SPECIAL = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16],
  ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16],
  ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) {
  SPECIAL.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], ["::1", 128], ["64:ff9b::", 96], ["64:ff9b:1::", 48], ["100::", 64], ["2001::", 23],
  ["2001:db8::", 32], ["2002::", 16], ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8],
] as const) {
  SPECIAL.addSubnet(network, prefix, "ipv6");
}

/** An IPv4 address written inside IPv6 (::ffff:a.b.c.d or ::ffff:hhhh:hhhh). */
function embeddedIpv4(address: string): string | undefined {
  const match = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!match) return undefined;
  if (match[1]) return match[1];
  const high = parseInt(match[2]!, 16);
  const low = parseInt(match[3]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** True for an IP address in a private or otherwise special-purpose range. */
export function isSpecialAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 4) return SPECIAL.check(bare, "ipv4");
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    return v4 ? SPECIAL.check(v4, "ipv4") : SPECIAL.check(bare, "ipv6");
  }
  return false;
}

/** Names that never leave the machine or the local network, whatever DNS says. */
function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost") || name.endsWith(".local") || name.endsWith(".internal");
}

/** Host names (with or without a port) that are this machine or a private network, judged from the name alone. */
export function isPrivateHost(host: string): boolean {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return isLocalName(name) || isSpecialAddress(name);
}

export class PrivateAddressError extends Error {
  constructor(readonly host: string, readonly address?: string) {
    super(
      address
        ? `${host} resolves to ${address}, a private or special-purpose address, which this server refuses to reach (start it with --allow-private-address for local setups)`
        : `${host} is a loopback or private host, which this server refuses to reach (start it with --allow-private-address for local setups)`,
    );
    this.name = "PrivateAddressError";
  }
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/**
 * Resolves a host name and throws PrivateAddressError when any of its
 * addresses is special (a name with one public and one private address is
 * refused: the connection may use either).
 */
export async function assertPublicHost(hostname: string, resolver: Resolver = systemResolver): Promise<void> {
  const bare = hostname.replace(/^\[|\]$/g, "");
  if (isLocalName(bare)) throw new PrivateAddressError(hostname);
  if (isIP(bare)) {
    if (isSpecialAddress(bare)) throw new PrivateAddressError(hostname, bare);
    return;
  }
  const addresses = await resolver(bare);
  const special = addresses.find((entry) => isSpecialAddress(entry.address));
  if (special) throw new PrivateAddressError(hostname, special.address);
}

/**
 * A `lookup` for sockets that refuses special addresses after resolution,
 * so the address checked is the address connected to (no window for DNS
 * rebinding between a check and the connection).
 */
export function publicOnlyLookup(
  hostname: string,
  options: { all?: boolean; family?: number | string },
  callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dnsLookup(hostname, { ...options, all: true } as { all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const special = addresses.find((entry) => isSpecialAddress(entry.address));
    if (special) return callback(new PrivateAddressError(hostname, special.address), []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}
