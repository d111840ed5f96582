/**
 * The messages of an mbox file (an export from Thunderbird, Gmail Takeout, Apple Mail, mutt):
 * each opens with a `From sender date` separator line after a blank line. Each message is kept
 * byte for byte from its separator line on (the parser skips that line, see message-start.ts),
 * `>From ` escapes included, so what is stored is what the file held. A file that is not an mbox
 * is one message.
 */

// `From jane@example.com Mon Nov  2 09:00:00 2026`, `From - Mon Nov 02 09:00:00 2026` (Thunderbird),
// `From 1791234567890@xxx Mon Nov 02 09:00:00 +0000 2026` (Gmail): a sender, then a weekday.
const SEPARATOR = /^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) /;

export function splitMbox(raw: Buffer): Buffer[] {
  const text = raw.toString('latin1');
  if (!SEPARATOR.test(text)) return [raw];
  const starts = [0];
  for (const m of text.matchAll(/\n(?:\r?\n)(From [^\r\n]*)/g)) {
    if (SEPARATOR.test(m[1]!)) starts.push(m.index + m[0].length - m[1]!.length);
  }
  return starts.map((start, i) => {
    const end = starts[i + 1] ?? raw.length;
    // The blank line before the next separator belongs to the file format, not to the message.
    let cut = end;
    if (i + 1 < starts.length) cut = text.lastIndexOf('\n', end - 2) + 1;
    return raw.subarray(start, Math.max(start, cut));
  });
}
