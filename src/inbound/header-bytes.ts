import { isAscii } from 'node:buffer';
import { correctedCharset, decodeStrict, fallbackCharset } from './charsets.ts';

/**
 * Raw 8-bit bytes in a message's header block, made readable before mailparser sees them. Mailparser
 * reads header bytes as UTF-8 and decodes each encoded word by its label, so it turns
 * `=?iso-8859-1?Q?Fr<0xF6>sche?=` and a raw GBK subject into U+FFFD, and Shift_JIS bytes under an
 * ISO-2022-JP label into nonsense. Only header blocks are rewritten (the message's, and its MIME
 * parts', where an attachment's raw file name sits), in a copy the parser reads:
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

const SUSPECT_LABEL = /=\?[^?]*(?:2022-?jp|gb|unknown|8bit|x-user)[^?]*\?/i;

/**
 * One header block (latin1, one char per byte) repaired, or null when it needs nothing.
 * `declared` is the charset the block's message or part declares; `sample` is more text of the
 * same message for the detector.
 */
function repairBlock(block: string, declared: () => string | null, sample: () => Uint8Array): string | null {
  if (!hasEightBit(block) && !SUSPECT_LABEL.test(block)) return null;
  // Fields whose raw 8-bit bytes are not UTF-8, read as one text so a detector sees all of them.
  const parts = fields(block);
  const outside = (f: string) => f.replace(ENCODED_WORD, '');
  const foreign = new Set(parts.filter((f) => hasEightBit(outside(f)) && !isUtf8(latin1Bytes(outside(f)))));
  let charsetCache: string | undefined;
  const charset = () => {
    if (charsetCache === undefined) {
      const bytes = latin1Bytes([...foreign].map(outside).join('\n'));
      charsetCache = fallbackCharset(bytes, declared(), Buffer.concat([bytes, sample()]));
    }
    return charsetCache;
  };
  let changed = false;
  const repaired = parts.map((field) => {
    let out = repairEncodedWords(field, (bytes) => fallbackCharset(bytes, declared()));
    if (foreign.has(field)) {
      // Encoded words are ASCII now; the rest of the field is read in the fallback charset.
      const text = decodeStrict(latin1Bytes(out), charset()) ?? new TextDecoder('windows-1252').decode(latin1Bytes(out));
      out = Buffer.from(text, 'utf8').toString('latin1');
    }
    if (out !== field) changed = true;
    return out;
  });
  return changed ? repaired.join('') : null;
}

const blockEnd = (text: string, from: number) => {
  const m = /\r?\n\r?\n/g;
  m.lastIndex = from;
  const found = m.exec(text);
  return found ? found.index + found[0].length : -1;
};

const boundaryOf = (block: string) => /^content-type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*?;\s*boundary\s*=\s*(?:"([^"\r\n]+)"|([^;\s]+))/im.exec(block);

// A hostile message can nest thousands of multiparts; past these, part headers are left as they are.
const PART_LIMITS = Object.freeze({ boundaries: 50, parts: 500 });

/**
 * The header blocks of the message's MIME parts: after each `--boundary` line of a multipart, up to
 * the blank line. Found boundary by boundary (a part may be a multipart itself), bounded.
 */
function partHeaderBlocks(text: string, topBlock: string): Array<{ start: number; end: number }> {
  const blocks: Array<{ start: number; end: number }> = [];
  const queue: string[] = [];
  const first = boundaryOf(topBlock);
  if (first) queue.push(first[1] ?? first[2]!);
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < PART_LIMITS.boundaries && blocks.length < PART_LIMITS.parts) {
    const boundary = queue.shift()!;
    if (seen.has(boundary)) continue;
    seen.add(boundary);
    const marker = `\n--${boundary}`;
    for (let at = text.indexOf(marker); at !== -1 && blocks.length < PART_LIMITS.parts; at = text.indexOf(marker, at + marker.length)) {
      const lineEnd = text.indexOf('\n', at + marker.length);
      if (lineEnd === -1 || text.startsWith('--', at + marker.length)) continue;
      const end = blockEnd(text, lineEnd - 1);
      if (end === -1) break;
      blocks.push({ start: lineEnd + 1, end });
      const nested = boundaryOf(text.slice(lineEnd + 1, end));
      if (nested) queue.push(nested[1] ?? nested[2]!);
    }
  }
  return blocks.sort((a, b) => a.start - b.start);
}

/**
 * The raw message with its header blocks (the message's and its MIME parts') repaired, or the
 * same Buffer when there is nothing to repair. `raw` starts at the first header line.
 */
export function repairHeaderBytes(raw: Buffer): Buffer {
  const head = raw.subarray(0, 256 * 1024).toString('latin1');
  const end = blockEnd(head, 0) === -1 ? head.length : blockEnd(head, 0);
  const block = head.slice(0, end);
  const sample = () => raw.subarray(end, end + BODY_WINDOW);

  let declaredCache: string | null | undefined;
  const declared = () => {
    if (declaredCache === undefined) {
      const body = sample().toString('latin1');
      const wordCharset = [...block.matchAll(ENCODED_WORD)].map((m) => m[1]!.split('*')[0]!).find((l) => !UNNAMED.test(l) && !/^(?:us-ascii|utf-?8)$/i.test(l));
      declaredCache = contentTypeCharset(block) ?? contentTypeCharset(body) ?? wordCharset ?? null;
    }
    return declaredCache;
  };
  const pieces: Buffer[] = [];
  let changed = false;
  const top = repairBlock(block, declared, sample);
  pieces.push(top === null ? raw.subarray(0, end) : latin1Bytes(top));
  changed ||= top !== null;

  // Part headers (an attachment's raw 8-bit file name) only where some byte past the top block is 8-bit.
  let from = end;
  if (boundaryOf(block) && !isAscii(raw.subarray(end))) {
    const text = raw.toString('latin1');
    for (const part of partHeaderBlocks(text, block)) {
      if (part.start < from) continue;
      const partBlock = text.slice(part.start, part.end);
      const fixed = repairBlock(partBlock, () => contentTypeCharset(partBlock) ?? declared(), sample);
      if (fixed === null) continue;
      pieces.push(raw.subarray(from, part.start), latin1Bytes(fixed));
      from = part.end;
      changed = true;
    }
  }
  if (!changed) return raw;
  pieces.push(raw.subarray(from));
  return Buffer.concat(pieces);
}
