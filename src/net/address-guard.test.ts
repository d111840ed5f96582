import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { isPublicAddress, publicOnlyLookup, refuseOutboundUrl, type Resolver } from './address-guard.ts';

// The guard at its default (private addresses refused), the way production runs it.
const PUBLIC = [
  '8.8.8.8', '1.1.1.1', '93.184.216.34', '52.94.236.248', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.1',
  '192.167.255.255', '192.169.0.1', '198.17.255.255', '198.20.0.1', '223.255.255.254', '11.0.0.1', '169.253.255.255',
  '::ffff:8.8.8.8', '::ffff:5db8:d822', '2606:4700:4700::1111', '2a00:1450:4001:81c::200e', '2001:4860:4860::8888', '2620:fe::fe',
];
const NOT_PUBLIC = [
  // IPv4 special-purpose space
  '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.255', '127.0.0.1', '127.255.255.254',
  '169.254.169.254', '172.16.0.1', '172.31.255.255', '192.0.0.8', '192.0.2.1', '192.88.99.1', '192.168.1.1',
  '198.18.0.1', '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255',
  // IPv6 special-purpose space
  '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', 'fec0::1', '100::1', '2001:db8::1', '3fff::1', '5f00::1',
  // IPv4 inside IPv6: mapped (judged by the IPv4 inside), compatible, translated, NAT64, 6to4, Teredo
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:10.0.0.1', '::7f00:1', '::127.0.0.1', '::8.8.8.8',
  '::ffff:0:7f00:1', '::ffff:0:808:808', '64:ff9b::7f00:1', '64:ff9b::808:808', '64:ff9b:1::a9fe:a9fe', '2002:7f00:1::1', '2002:808:808::1',
  '2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  // not addresses
  '', 'localhost', '127.1', '0x7f000001', '2130706433', '1.2.3.4.5', 'fe80::1%eth0',
];

const resolverOf = (answers: Record<string, string[]>): Resolver => async (host) => {
  const list = answers[host];
  if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('the private-address guard', () => {
  it.each(PUBLIC)('accepts the public address %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each(NOT_PUBLIC)('refuses the non-public address %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it('accepts https URLs on public IPv4 and IPv6 literals and on names that resolve publicly', async () => {
    const resolve = resolverOf({ 'acme.zendesk.com': ['104.16.51.111', '2606:4700::6810:336f'], 'hooks.example.com': ['93.184.216.34'] });
    for (const url of ['https://93.184.216.34/hook', 'https://[2606:4700:4700::1111]/hook', 'https://acme.zendesk.com', 'https://hooks.example.com:8443/x']) {
      expect(await refuseOutboundUrl(url, false, resolve), url).toBeNull();
    }
  });

  it('refuses URLs whose host is or resolves to a non-public address, naming it', async () => {
    const resolve = resolverOf({ 'evil.example.com': ['93.184.216.34', '169.254.169.254'], 'internal.example.com': ['10.0.0.5'] });
    expect(await refuseOutboundUrl('https://127.0.0.1/x', false, resolve)).toMatch(/public addresses; 127\.0\.0\.1/);
    expect(await refuseOutboundUrl('https://0x7f000001/x', false, resolve)).toMatch(/127\.0\.0\.1/); // WHATWG normalises it
    expect(await refuseOutboundUrl('https://2130706433/x', false, resolve)).toMatch(/127\.0\.0\.1/);
    expect(await refuseOutboundUrl('https://[::ffff:169.254.169.254]/x', false, resolve)).toMatch(/not|public/);
    expect(await refuseOutboundUrl('https://[64:ff9b:1::a9fe:a9fe]/x', false, resolve)).toMatch(/public addresses/);
    expect(await refuseOutboundUrl('https://evil.example.com/x', false, resolve)).toMatch(/evil\.example\.com resolves to 169\.254\.169\.254/);
    expect(await refuseOutboundUrl('https://internal.example.com/x', false, resolve)).toMatch(/10\.0\.0\.5/);
    expect(await refuseOutboundUrl('https://nowhere.example.com/x', false, resolve)).toMatch(/does not resolve/);
    expect(await refuseOutboundUrl('http://93.184.216.34/x', false, resolve)).toBe('must be an https URL');
    expect(await refuseOutboundUrl('not a url', false, resolve)).toBe('must be an absolute URL');
    // The switch lets tests and demos reach the fake provider on loopback, over http too.
    expect(await refuseOutboundUrl('http://127.0.0.1:4000/x', true, resolve)).toBeNull();
  });

  it('hands the agent only the public answers of a name, and refuses a name with none', async () => {
    const resolve = resolverOf({ 'mixed.example.com': ['10.0.0.1', '93.184.216.34', '::1', '2606:4700:4700::1111'], 'inside.example.com': ['127.0.0.1', '::1'] });
    const lookup = publicOnlyLookup(false, resolve);
    const call = (host: string, options: object) =>
      new Promise<{ err: NodeJS.ErrnoException | null; result: unknown }>((done) =>
        lookup(host, options as never, (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) =>
          done({ err, result: Array.isArray(address) ? address : { address, family } }),
        ),
      );
    expect((await call('mixed.example.com', { all: true })).result).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
    ]);
    expect((await call('mixed.example.com', {})).result).toEqual({ address: '93.184.216.34', family: 4 });
    expect((await call('mixed.example.com', { family: 6 })).result).toEqual({ address: '2606:4700:4700::1111', family: 6 });
    expect((await call('93.184.216.34', { all: true })).result).toEqual([{ address: '93.184.216.34', family: 4 }]);
    const refused = await call('inside.example.com', { all: true });
    expect(refused.err).toMatchObject({ code: 'EADDRNOTPUBLIC' });
    expect((await call('gone.example.com', {})).err).toMatchObject({ code: 'ENOTFOUND' });
    // Allowed: every answer, private ones included.
    expect((await new Promise<unknown>((done) => publicOnlyLookup(true, resolve)('inside.example.com', { all: true }, (_e, a) => done(a)))) ).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
  });
});
