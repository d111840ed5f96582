import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
const SIG_CHARS = 13; // 64 bits

/** A key for thread tokens only, derived from SECRETS_KEY so no second secret is needed. */
export function threadTokenKey(secretsKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretsKey, Buffer.alloc(0), 'intake thread token v1', 32));
}

function base32(bytes: Buffer, chars: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function sign(key: Buffer, workspaceId: string, ulid: string): string {
  return base32(createHmac('sha256', key).update(`${workspaceId}:${ulid}`).digest(), SIG_CHARS);
}

/**
 * The token our outbound mail puts in its Reply-To (`<inbound token>+<thread token>@domain`): the
 * thread's ULID and a signature over it and the workspace, lower case because some servers
 * lower-case local parts. 39 characters keeps the whole local part within RFC 5321's 64.
 */
export function makeThreadToken(key: Buffer, workspaceId: string, threadId: string): string {
  const ulid = threadId.slice(threadId.indexOf('_') + 1).toLowerCase();
  return `${ulid}${sign(key, workspaceId, ulid)}`;
}

/** The thread id a token names, or null when it is malformed or not signed for this workspace. */
export function readThreadToken(key: Buffer, workspaceId: string, token: string): string | null {
  const t = token.trim().toLowerCase();
  if (!/^[0-9a-hjkmnp-tv-z]{26}[0-9a-hjkmnp-tv-z]{13}$/.test(t)) return null;
  const ulid = t.slice(0, 26);
  const expected = Buffer.from(sign(key, workspaceId, ulid));
  if (!timingSafeEqual(expected, Buffer.from(t.slice(26)))) return null;
  return `th_${ulid.toUpperCase()}`;
}
