import { MIMEType, TextDecoder } from 'node:util';
import { AppError } from './errors.ts';

/** `type/subtype` in lower case and its charset parameter, or null for a missing or malformed header. */
export function mediaType(header: string | undefined): { essence: string; charset: string | null } | null {
  if (!header) return null;
  try {
    const type = new MIMEType(header);
    return { essence: type.essence, charset: type.params.get('charset')?.toLowerCase() ?? null };
  } catch {
    return null;
  }
}

/** Refuses, before the body is read, a request whose Content-Type is not the one this route takes. */
export function requireMediaType(header: string | undefined, expected: string, hint: string): void {
  const type = mediaType(header);
  if (type?.essence === expected) return;
  throw new AppError('unsupported_media_type', `This endpoint takes ${expected}${type ? `, not ${type.essence}` : ''}; ${hint}`, [
    { field: 'content-type', message: `must be ${expected}`, type: 'VALIDATION' },
  ]);
}

/**
 * A text body decoded per its declared charset (UTF-8 when none), with its bytes as UTF-8 too,
 * so what is stored reads back the same way whatever the sender chose. Lenient like Buffer's
 * own UTF-8 decoding: a bad byte becomes U+FFFD rather than a refusal. A byte order mark goes.
 */
export function decodeText(raw: Buffer, charset: string | null): { text: string; utf8: Buffer } {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset ?? 'utf-8');
  } catch {
    throw new AppError('unsupported_media_type', `The charset ${JSON.stringify(charset)} is not supported; send UTF-8.`, [
      { field: 'content-type', message: 'charset is not supported', type: 'VALIDATION' },
    ]);
  }
  const text = decoder.decode(raw);
  const unchanged = decoder.encoding === 'utf-8' && !(raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf);
  return { text, utf8: unchanged ? raw : Buffer.from(text, 'utf8') };
}
