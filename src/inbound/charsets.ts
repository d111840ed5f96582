import chardet from 'chardet';

/**
 * Charset choices for mail that says nothing, or says something untrue, about its bytes. Decoding
 * uses the WHATWG Encoding Standard (Node's TextDecoder), the same tables browsers and mail
 * clients use: `iso-8859-1` reads as windows-1252, `gb2312` as GBK. Detection is chardet's.
 */

/** The TextDecoder name for a MIME charset label, or null when there is no such decoder. */
export function knownCharset(label: string): string | null {
  try {
    return new TextDecoder(label.trim()).encoding;
  } catch {
    return null;
  }
}

/** The bytes in this charset, or null when they are not valid in it (never a U+FFFD). */
export function decodeStrict(bytes: Uint8Array, charset: string): string | null {
  try {
    return new TextDecoder(charset, { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

const hasEightBit = (bytes: Uint8Array) => bytes.some((b) => b >= 0x80);

/**
 * The charset mail clients read under a label that does not fit the bytes: GB2312 and GBK labels
 * cover GBK and GB18030 text (Foxmail, Outlook), so they read as GB18030, the superset of both;
 * ISO-2022-JP is 7-bit, so 8-bit bytes under that label are Shift_JIS (Windows mailers), else
 * EUC-JP. Any other label is kept.
 */
export function correctedCharset(label: string, bytes: Uint8Array): string {
  const name = label.trim().toLowerCase();
  if (/^(?:gb2312|gbk|x-gbk|cp936|euc-cn|csgb2312|chinese|gb_2312-80)$/.test(name)) return 'gb18030';
  if (/^(?:cs)?iso-?2022-?jp/.test(name) && hasEightBit(bytes)) {
    for (const cs of ['shift_jis', 'euc-jp']) if (decodeStrict(bytes, cs) !== null) return cs;
    return 'shift_jis';
  }
  return label;
}

// What a header's raw bytes can be decoded from: ASCII-compatible charsets only (an ASCII header
// name or address read as UTF-16 is nonsense), and not the 7-bit ISO-2022 family.
const usableForHeaders = (charset: string) => !/^(?:utf-16|utf-32|iso-2022)/i.test(charset);

/**
 * The charset to read raw 8-bit header bytes with: the message's declared charset (corrected as
 * mail clients do) when every byte fits it, else the first of chardet's guesses, most confident
 * first, that fits them all, else windows-1252, which maps every byte. `sample` feeds the detector
 * (more text than `bytes` guesses better); `bytes` must decode without a single error.
 */
export function fallbackCharset(bytes: Uint8Array, declared: string | null, sample: Uint8Array = bytes): string {
  if (declared) {
    const corrected = correctedCharset(declared, bytes);
    const known = knownCharset(corrected);
    // A declared us-ascii or utf-8 that does not fit says nothing: detect instead.
    if (known && usableForHeaders(known) && decodeStrict(bytes, known) !== null) return known;
  }
  const guesses = chardet.analyse(sample).map((m) => knownCharset(m.name)).filter((c): c is string => c !== null && usableForHeaders(c));
  for (const guess of new Set(guesses)) if (decodeStrict(bytes, guess) !== null) return guess;
  return 'windows-1252';
}
