import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Checks `Authorization: Basic ...` against `user:pass` in constant time (hashing first equalises lengths). */
export function basicAuthMatches(header: string | undefined, expected: string): boolean {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  const given = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  return timingSafeEqual(digest(given), digest(expected)) && match !== null;
}
