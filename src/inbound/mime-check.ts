/**
 * The receipt-time look at a raw RFC 822 message: its header block, read cheaply from the first
 * bytes only. Full parsing (mailparser) happens in the job; nothing here may refuse what it accepts.
 */
import { HEADER_FIELD, headerStart } from './message-start.ts';

// Enough for any ordinary header block; a longer one is judged on its complete lines only.
const HEAD_WINDOW = 256 * 1024;

export type HeaderBlock = {
  /** Unfolded logical header lines, every one complete in the window (a folded tail may be cut). */
  lines: string[];
  /** False when the block goes on past the window: a header not seen may still come. */
  complete: boolean;
  /** Byte offset of the first header line: past an mbox `From ` line and a short preamble. */
  start: number;
};

/** The header block's lines, judged only where complete: a cut never falls inside a line we read. */
export function readHeaderBlock(raw: Buffer): HeaderBlock {
  const start = headerStart(raw);
  const head = raw.subarray(start, start + HEAD_WINDOW).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  let block: string;
  let complete = true;
  if (end !== -1) block = head.slice(0, end);
  else if (raw.length - start <= HEAD_WINDOW) block = head;
  else {
    complete = false;
    // Drop the line the window cuts; keep it only when it is all there is, for its name.
    const lastNewline = head.lastIndexOf('\n');
    block = lastNewline === -1 ? head : head.slice(0, lastNewline);
  }
  const lines = block
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .filter(Boolean);
  return { lines, complete, start };
}

/** The values of every header with this name (case-insensitive) among the lines. */
export function headerValues(lines: readonly string[], name: string): string[] {
  const prefix = `${name.toLowerCase()}:`;
  return lines.filter((l) => l.slice(0, prefix.length).toLowerCase() === prefix).map((l) => l.slice(prefix.length).trim());
}

/**
 * Where the job looks for a sender, in order (see sender.ts): a message without From but with one
 * of the others is real mail (list software, bounces, scripts) and is taken.
 */
export const SENDER_HEADERS = Object.freeze(['From', 'Reply-To', 'Sender', 'Return-Path'] as const);

/**
 * A cheap check at receipt, before anything is stored: the body must open with RFC 822 headers
 * (after an mbox `From ` line and a short preamble) that name a sender. A sender header past the
 * window may still come, so only a block read to its end can be refused for lacking one.
 */
export function looksLikeMime(raw: Buffer): { ok: true } | { ok: false; reason: string } {
  const { lines, complete } = readHeaderBlock(raw);
  if (lines.length === 0 || !lines.every((l) => HEADER_FIELD.test(l))) {
    return { ok: false, reason: 'the body does not start with RFC 822 header lines' };
  }
  // `Return-Path: <>` is the null sender of a bounce: it names nobody.
  const names = (v: string) => /\S/.test(v.replace(/<\s*>/g, ''));
  if (complete && !SENDER_HEADERS.some((h) => headerValues(lines, h).some(names))) {
    return { ok: false, reason: 'the message has no From header (nor Reply-To, Sender or Return-Path)' };
  }
  return { ok: true };
}
