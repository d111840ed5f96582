import dns from 'node:dns';
import net from 'node:net';

// Loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, benchmarking,
// multicast and reserved ranges, for IPv4 and IPv6: never a webhook destination.
const BLOCKED = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [
  ['::', 128], ['::1', 128], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(address, prefix, 'ipv6');

export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  if (family === 6 && address.toLowerCase().startsWith('::ffff:')) {
    // IPv4-mapped: judge the IPv4 address inside.
    const v4 = address.slice(7);
    if (net.isIPv4(v4)) return !BLOCKED.check(v4, 'ipv4');
  }
  return !BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why a webhook URL is refused, or null when it is acceptable. Resolves the host to check every address. */
export async function refuseWebhookUrl(raw: string, allowPrivate: boolean): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'must be an https URL';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host) ? [host] : await dns.promises.lookup(host, { all: true }).then((r) => r.map((a) => a.address), () => []);
  if (addresses.length === 0) return `the host ${host} does not resolve`;
  const bad = addresses.find((a) => !isPublicAddress(a));
  return bad ? `must resolve to public addresses; ${host} resolves to ${bad}` : null;
}

/**
 * A DNS lookup for the delivery agent that refuses non-public answers, so the address actually
 * connected to is checked (a name that resolved publicly when the target was saved may not now).
 */
export function publicOnlyLookup(allowPrivate: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, results) => {
      if (err) return callback(err, '', 0);
      const list = (results as dns.LookupAddress[]).filter((r) => allowPrivate || isPublicAddress(r.address));
      if (list.length === 0) return callback(Object.assign(new Error(`refused: ${hostname} resolves only to non-public addresses`), { code: 'EADDRNOTPUBLIC' }), '', 0);
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
