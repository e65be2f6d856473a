import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

// Where webhooks may go: public unicast addresses only, unless private destinations are allowed
// (dev and tests). A merchant's URL must not reach our own network (loopback, RFC 1918, link
// local and its cloud metadata service at 169.254.169.254…). Pure: the API checks a URL's
// host at creation, and the sender checks every address it is about to connect to.

/** The stable reason recorded on a delivery attempt refused at send time. */
export const destinationNotAllowedError = 'destination_not_allowed';

export interface DestinationPolicy {
  /** Loopback, private and other non-public destinations are allowed (dev mode, tests). */
  allowPrivateDestinations: boolean;
}

// Names that never lead to the public internet: RFC 6761 (localhost), RFC 6762 (mDNS),
// RFC 8375 (home networks), and the TLD ICANN reserved for private use.
const privateNameSuffixes = ['localhost', 'local', 'home.arpa', 'internal'];

// ::/96 holds the deprecated IPv4-compatible addresses (::127.0.0.1); ipaddr.js calls them unicast.
const ipv4Compatible = ipaddr.parseCIDR('::/96');

const rangeNames: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  uniqueLocal: 'a private address',
  linkLocal: 'a link-local address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  carrierGradeNat: 'a carrier-grade NAT address',
};

/**
 * Why an IP address is not a public destination, or null when it is one. The IPv4 address
 * inside an IPv4-mapped IPv6 one (::ffff:127.0.0.1) is judged as itself.
 */
export function addressRefusal(address: string): string | null {
  const literal = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIP(literal) === 0) return 'not an IP address';
  let parsed = ipaddr.parse(literal);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  // An allow-list: whatever ipaddr.js puts in a special range (loopback, private, uniqueLocal,
  // linkLocal, multicast, unspecified, broadcast, carrierGradeNat, reserved, 6to4, teredo,
  // NAT64…) is refused, including ranges that embed an IPv4 address we could not judge.
  const range: string = parsed.range();
  if (range !== 'unicast') return rangeNames[range] ?? `a reserved address (${range})`;
  if (parsed.kind() === 'ipv6' && parsed.match(ipv4Compatible)) return 'a deprecated IPv4-compatible IPv6 address';
  return null;
}

/**
 * Why a URL's host (as WHATWG URL normalizes it: IPv4 in dotted decimal, IPv6 in brackets)
 * cannot receive webhooks, or null. Names are judged by their form only; what they resolve to
 * is checked at each send, where the answer is the address actually connected to.
 */
export function hostRefusal(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.+$/, '');
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return addressRefusal(literal);
  if (privateNameSuffixes.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))) {
    return 'a name reserved for local networks';
  }
  // A single label (http://db/, http://metadata/) can only be resolved by a local search domain.
  if (!host.includes('.')) return 'a name without a domain';
  return null;
}

/** The error the sender's connection fails with; describeFailure names it destinationNotAllowedError. */
export class DestinationNotAllowedError extends Error {
  readonly code = 'ERR_DESTINATION_NOT_ALLOWED';
  constructor(host: string, reason: string) {
    super(`webhook destination ${host} is not allowed: ${reason}`);
    this.name = 'DestinationNotAllowedError';
  }
}
