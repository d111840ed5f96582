/**
 * Where a raw message's header block starts. Mail as it arrives is not always bare RFC 822: an
 * mbox export opens each message with a `From sender date` separator line, and gateways and
 * scripts put a line or a few of their own text (a banner, a BOM, blank lines) before the headers.
 * Both are skipped, never stored apart: the raw payload stays exactly as received.
 */

/** A preamble longer than this is not a preamble but a body without headers. */
export const PREAMBLE_LIMITS = Object.freeze({ lines: 5, bytes: 2048 });

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// A field name is printable ASCII but colon (RFC 5322 2.2).
export const HEADER_FIELD = /^[!-9;-~]+:/;

/** Byte offset of the first header line, or 0 when none is found within the preamble limits. */
export function headerStart(raw: Buffer): number {
  let pos = raw.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0;
  const window = raw.subarray(0, pos + PREAMBLE_LIMITS.bytes + 1024).toString('latin1');
  // The mbox separator: `From jane@example.com Mon Nov  2 09:00:00 2026` (no colon after From).
  if (window.startsWith('From ', pos)) {
    const eol = window.indexOf('\n', pos);
    if (eol === -1) return 0;
    pos = eol + 1;
  }
  for (let skipped = 0; skipped <= PREAMBLE_LIMITS.lines; skipped++) {
    const eol = window.indexOf('\n', pos);
    const line = window.slice(pos, eol === -1 ? undefined : eol);
    if (HEADER_FIELD.test(line)) return pos;
    if (eol === -1 || eol + 1 > PREAMBLE_LIMITS.bytes + 3) return 0;
    pos = eol + 1;
  }
  return 0;
}
