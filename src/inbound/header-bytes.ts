import { correctedCharset, decodeStrict, fallbackCharset } from './charsets.ts';

/**
 * Raw 8-bit bytes in a message's header block, made readable before mailparser sees them. Mailparser
 * reads header bytes as UTF-8 and decodes each encoded word by its label, so it turns
 * `=?iso-8859-1?Q?Fr<0xF6>sche?=` and a raw GBK subject into U+FFFD, and Shift_JIS bytes under an
 * ISO-2022-JP label into nonsense. Only the header block is rewritten, in a copy the parser reads:
 * - an encoded word keeps its own charset: raw 8-bit bytes inside a Q word become `=XX` escapes,
 *   and a label that does not fit its bytes is replaced by the one mail clients read (charsets.ts);
 * - raw 8-bit bytes outside encoded words that are not UTF-8 are decoded with the message's
 *   declared charset, else a detected one, and written as UTF-8, which mailparser reads.
 * The stored raw payload is never changed. A header block with nothing to repair is returned as is.
 */

const ENCODED_WORD = /=\?([^?\x00-\x20]+)\?([QqBb])\?([^?\x00-\x20]*)\?=/g;
// Labels gateways put on bytes they could not name (Postfix, Sendmail's `unknown-8bit`).
const UNNAMED = /^(?:unknown-8bit|x-unknown|unknown|8bit|x-user-defined)$/i;
// How far into the body a part's declared charset or detector text is looked for.
const BODY_WINDOW = 64 * 1024;

const latin1Bytes = (s: string) => Buffer.from(s, 'latin1');
const hasEightBit = (s: string) => /[\x80-\xff]/.test(s);

function wordBytes(encoding: string, text: string): Buffer {
  if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64');
  return latin1Bytes(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))));
}

function isUtf8(bytes: Uint8Array): boolean {
  return decodeStrict(bytes, 'utf-8') !== null;
}

/** The first `charset=` of a Content-Type header among these lines (unfolded latin1 text). */
function contentTypeCharset(text: string): string | null {
  for (const m of text.matchAll(/^content-type:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/gim)) {
    const cs = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(m[1]!)?.[1];
    if (cs) return cs;
  }
  return null;
}

/** The header block (latin1, one char per byte) with its encoded words repaired. */
function repairEncodedWords(block: string, unnamedCharset: (bytes: Uint8Array) => string): string {
  return block.replace(ENCODED_WORD, (word, rawLabel: string, encoding: string, text: string) => {
    const [label = '', language] = rawLabel.split('*');
    const bytes = wordBytes(encoding, text);
    const charset = UNNAMED.test(label) ? unnamedCharset(bytes) : correctedCharset(label, bytes);
    if (charset === label && !hasEightBit(text)) return word;
    const escaped = encoding.toUpperCase() === 'Q' ? text.replace(/[\x80-\xff]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`) : text;
    return `=?${charset}${language === undefined ? '' : `*${language}`}?${encoding}?${escaped}?=`;
  });
}

/** Splits a header block into its fields, each with its folded continuation lines. */
function fields(block: string): string[] {
  return block.split(/(?<=\n)(?=[^ \t])/);
}

/**
 * The raw message with its header block repaired, or the same Buffer when there is nothing to
 * repair. `raw` starts at the first header line.
 */
export function repairHeaderBytes(raw: Buffer): Buffer {
  const head = raw.subarray(0, 256 * 1024).toString('latin1');
  const blankLine = /\r?\n\r?\n/.exec(head);
  const end = blankLine ? blankLine.index + blankLine[0].length : head.length;
  const block = head.slice(0, end);
  if (!hasEightBit(block) && !/=\?[^?]*(?:2022-?jp|gb|unknown|8bit|x-user)[^?]*\?/i.test(block)) return raw;

  let declaredCache: string | null | undefined;
  const declared = () => {
    if (declaredCache === undefined) {
      const body = raw.subarray(end, end + BODY_WINDOW).toString('latin1');
      const wordCharset = [...block.matchAll(ENCODED_WORD)].map((m) => m[1]!.split('*')[0]!).find((l) => !UNNAMED.test(l) && !/^(?:us-ascii|utf-?8)$/i.test(l));
      declaredCache = contentTypeCharset(block) ?? contentTypeCharset(body) ?? wordCharset ?? null;
    }
    return declaredCache;
  };

  // Fields whose raw 8-bit bytes are not UTF-8, read as one text so a detector sees all of them.
  const parts = fields(block);
  const foreign = parts.filter((f) => hasEightBit(f.replace(ENCODED_WORD, '')) && !isUtf8(latin1Bytes(f.replace(ENCODED_WORD, ''))));
  let charsetCache: string | undefined;
  const charset = () => {
    if (charsetCache === undefined) {
      const bytes = latin1Bytes(foreign.map((f) => f.replace(ENCODED_WORD, '')).join('\n'));
      const body = raw.subarray(end, end + BODY_WINDOW);
      charsetCache = fallbackCharset(bytes, declared(), bytes.length ? Buffer.concat([bytes, body]) : body);
    }
    return charsetCache;
  };

  let changed = false;
  const repaired = parts.map((field) => {
    let out = repairEncodedWords(field, (bytes) => fallbackCharset(bytes, declared()));
    if (foreign.includes(field)) {
      // Encoded words are ASCII now; the rest of the field is read in the fallback charset.
      const text = decodeStrict(latin1Bytes(out), charset()) ?? new TextDecoder('windows-1252').decode(latin1Bytes(out));
      out = Buffer.from(text, 'utf8').toString('latin1');
    }
    if (out !== field) changed = true;
    return out;
  });
  if (!changed) return raw;
  return Buffer.concat([latin1Bytes(repaired.join('')), raw.subarray(end)]);
}
