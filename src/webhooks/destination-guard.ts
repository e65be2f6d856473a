import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import { addressRefusal, DestinationNotAllowedError } from './destinations.ts';

// The sender's connections reach public addresses only. The check sits in the connection
// itself: the host name is resolved once, the refused addresses are dropped, and the socket
// connects to what is left. So the address checked is the address connected to, and a name
// that resolves somewhere else a moment later (DNS rebinding) changes nothing.

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that answers only allowed addresses, or fails with DestinationNotAllowedError. */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const allowed = addresses.filter((entry) => addressRefusal(entry.address) === null);
    const first = allowed[0];
    if (!first) {
      const reason = addresses[0] ? (addressRefusal(addresses[0].address) ?? '') : 'no address';
      return callback(new DestinationNotAllowedError(hostname, `it resolves to ${reason}`), []);
    }
    // Node asks for every address when it races IPv4 and IPv6 (autoSelectFamily), else for one.
    if (options.all) return callback(null, allowed);
    return callback(null, first.address, first.family);
  });
}

/**
 * An undici connector that refuses non-public destinations. An IP literal in the URL is never
 * looked up by Node, so it is judged here; a name goes through publicOnlyLookup.
 */
export function publicOnlyConnector(options: buildConnector.BuildOptions = {}): buildConnector.connector {
  const connect = buildConnector({ ...options, lookup: publicOnlyLookup } as buildConnector.BuildOptions);
  return (params, callback) => {
    if (isIP(params.hostname) !== 0) {
      const refusal = addressRefusal(params.hostname);
      if (refusal !== null) {
        callback(new DestinationNotAllowedError(params.hostname, `it is ${refusal}`), null);
        return;
      }
    }
    connect(params, callback);
  };
}
