import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The private-address guard shared by webhooks and imports: an outbound request may reach only
 * globally routable addresses, never loopback, private networks, link-local (cloud metadata at
 * 169.254.169.254), CGNAT, documentation, benchmarking, multicast or reserved space, and never
 * IPv4 space hidden inside an IPv6 address.
 */

// ipaddr.js names every special-purpose range of both families (IANA's registries) and unwraps
// IPv4-mapped IPv6. Only what it calls plain unicast is public; IPv6 must also lie in global
// unicast 2000::/3, which leaves out whatever has no name yet.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];
// ipaddr.js reads a dotted tail (::8.8.8.8, IPv4-compatible) as IPv4-mapped, so Node judges that range first.
const IPV4_COMPATIBLE = new net.BlockList();
IPV4_COMPATIBLE.addSubnet('::', 96, 'ipv6');

export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0 || !ipaddr.isValid(address)) return false;
  if (family === 6 && IPV4_COMPATIBLE.check(address, 'ipv6')) return false;
  const ip = ipaddr.process(address);
  if (ip.range() !== 'unicast') return false;
  return ip.kind() === 'ipv4' || (ip as ipaddr.IPv6).match(GLOBAL_UNICAST_V6);
}

/** Every address a name resolves to; replaceable so tests judge names without traffic leaving the machine. */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** Why an outbound URL is refused, or null when it is acceptable. Resolves the host to check every address. */
export async function refuseOutboundUrl(raw: string, allowPrivate: boolean, resolve: Resolver = systemResolver): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'must be an https URL';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host) ? [host] : await resolve(host).then((r) => r.map((a) => a.address), () => []);
  if (addresses.length === 0) return `the host ${host} does not resolve`;
  const bad = addresses.find((a) => !isPublicAddress(a));
  return bad ? `must resolve to public addresses; ${host} resolves to ${bad}` : null;
}

/**
 * A DNS lookup for an HTTP agent that refuses non-public answers, so the address actually
 * connected to is checked (a name that resolved publicly when it was saved may not now).
 */
export function publicOnlyLookup(allowPrivate: boolean, resolve: Resolver = systemResolver): net.LookupFunction {
  return (hostname, options, callback) => {
    const answer = net.isIP(hostname) ? Promise.resolve([{ address: hostname, family: net.isIP(hostname) }]) : resolve(hostname);
    answer.then(
      (results) => {
        const wanted = (options as dns.LookupOptions).family;
        const list = results.filter((r) => (allowPrivate || isPublicAddress(r.address)) && (!wanted || wanted === r.family || wanted === `IPv${r.family}`));
        if (list.length === 0) {
          return callback(Object.assign(new Error(`refused: ${hostname} resolves only to non-public addresses`), { code: 'EADDRNOTPUBLIC' }), '', 0);
        }
        if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
        callback(null, list[0]!.address, list[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}
