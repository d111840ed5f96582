import { domainToUnicode } from 'node:url';
import { FORWARD_INTROS, HEADER_FIELDS, STUCK_LABELS, type Field } from './forward-labels.ts';

/**
 * The shape of a forwarded block in plain text, which email-forward-parser does not give: where
 * the block starts and ends, its quoting (`> From:`), the forwarded words up to where that quoting
 * ends, and the forwarder's own words above it. Also a reader of its own (separator, then header
 * lines by label) for forwards the library cannot read. Every step is linear in the text.
 */

export type Sender = { address: string; name: string | null };
export type ForwardedMessage = { from: Sender; subject: string | null; date: string | null; text: string };
export type ForwardParse = { original: ForwardedMessage; forwarderText: string | null };

/** A forwarded block: its first line (separator or header), quote depth, header fields, body start. */
export type Block = { start: number; depth: number; bodyFrom: number; fields: Partial<Record<Field, string>>; from: Sender | null };

// Compared after leading whitespace and `>` quoting are removed from the line.
const SEPARATORS =
  /^-{2,}\s*(forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|mensaje reenviado|doorgestuurd bericht|original message|ursprüngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht)\s*-{2,}$/iu;
/** `-------- 转发的消息 --------` in any language: a separator when a From line follows it. */
const DASH_RULE = /^-{2,}[ \t]*[^-\s][^\n]{0,80}[ \t]*-{2,}$/u;
/** Outlook's horizontal rule (and `<hr>` as HTML-to-text writes it); a forward only when a From line follows. */
const RULE = /^(?:_{10,}|-{10,})$/u;
const INTRO = /^(.{1,60}?)\s*[:：]$/u;
const INTROS: ReadonlySet<string> = new Set(FORWARD_INTROS);

// `Key: value`, also `De : value` (French spacing), `*From:* value` (bold) and `件名：value`.
const HEADER_LINE = /^\**([\p{L}][\p{L}\p{M}.-]*(?: [\p{L}\p{M}.()-]+){0,2})[\s*]*[:：]\**\s*(.*)$/u;
const QUOTE_PREFIX = /^[\s>]*/u;
const ONE_QUOTE_LEVEL = /^[ \t]*>[ \t]?/u;
// Bounded (RFC 5321 lengths) so a huge header line without an `@` is scanned in linear time.
export const ADDRESS = /[^\s<>()[\]"',;:*@]{1,64}@[^\s<>()[\]"',;:*@]{1,255}/u;
/** Longer lines are no header (RFC 5322's line limit) and are left as they are. */
export const LINE_LIMIT = 998;

type Header = { name: string; field: Field; value: string };
type Marker = { depth: number; headersFrom: number };

/**
 * The text as lines, header lines cleaned of what HTML-to-text adds (`<a@b [a@b]>`), of bold
 * marks (`*From:*`), and split again where conversion ran them together (`Subject: XDate: Y`).
 * Other lines, the forwarded words among them, stay as written.
 */
export function prepareLines(text: string): string[] {
  return text.replace(/\r\n?/gu, '\n').split('\n').flatMap(prepareLine);
}

const LINK_ECHO = /([^\s<>[\]@]{1,64}@[^\s<>[\]@]{1,255})(>?) \[(?:mailto:)?\1\]/gu;
const BOLD_LABEL = /\*([^*\n]{1,40}?[:：])\*/gu;
const LEADING_BOLD_LABEL = /^\*([^*\n]{1,40}?[:：])\*/u;
const STUCK = new RegExp(`(?<=\\S)(?=(?:${STUCK_LABELS.map((l) => l.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&')).join('|')})\\s?[:：])`, 'gu');

function prepareLine(line: string): string[] {
  if (line.length > LINE_LIMIT || (!line.includes('@') && !line.includes('*'))) return [line];
  const prefix = QUOTE_PREFIX.exec(line)![0];
  const depth = prefix.split('>').length - 1;
  if (!labelledAt(prefix + line.slice(prefix.length).replace(LEADING_BOLD_LABEL, '$1'), depth)) return [line];
  const clean = line.replace(LINK_ECHO, '$1$2').replace(BOLD_LABEL, '$1');
  if (!clean.includes('@') || !headerAt(clean, depth)) return [clean];
  const quote = '> '.repeat(depth);
  return clean.slice(prefix.length).split(STUCK).map((part, i) => (i === 0 ? prefix : quote) + part);
}

/** The first forwarded block by our own rules: a separator (or Outlook's From + Sent), then header lines. */
export function findBlock(lines: readonly string[]): Block | null {
  for (let i = 0; i < lines.length; i++) {
    const marker = markerAt(lines, i);
    const block = marker && readHeaders(lines, marker);
    if (marker && block) return { ...block, start: i };
  }
  return null;
}

/**
 * The header block holding `address` (the sender another reader found), and its bounds: the
 * contiguous header lines around that line, or the line alone (`On ..., Jane <jane@x> wrote:`).
 */
export function blockAround(lines: readonly string[], address: string): Block | null {
  const depthOf = (i: number) => QUOTE_PREFIX.exec(lines[i]!)![0].split('>').length - 1;
  const isHeader = (i: number, depth: number) => i >= 0 && i < lines.length && labelledAt(lines[i]!, depth) !== null;
  const holds = (i: number) => lines[i]!.length <= LINE_LIMIT && lines[i]!.toLowerCase().includes(address);
  // The sender's header line; else a line that introduces the block (Outlook 2019's `... wrote:`).
  let at = lines.findIndex((_, i) => holds(i) && (isHeader(i, depthOf(i)) || isHeader(i - 1, depthOf(i))));
  if (at < 0) at = lines.findIndex((line, i) => holds(i) && /[:：]\s*$/u.test(line));
  if (at < 0) return null;
  const depth = depthOf(at);
  // A wrapped sender (`From: "Doe, Jane"` then `   <jane@x>`) is read from its header line.
  let first = !isHeader(at, depth) && isHeader(at - 1, depth) && /^\s/u.test(unquote(lines[at]!, depth) ?? '') ? at - 1 : at;
  if (!isHeader(first, depth)) {
    const fields = { from: unquote(lines[at]!, depth)!.trim() };
    return { start: at, depth, bodyFrom: at + 1, fields, from: parseFrom(fields.from) };
  }
  while (isHeader(first - 1, depth) && !markerAt(lines, first - 1)) first--;
  const block = readHeaders(lines, { depth, headersFrom: first }, false);
  return block && { ...block, start: first };
}

/** The forwarded words and the forwarder's own words above the block (its separator line left out). */
export function readBlock(lines: readonly string[], block: Block): { text: string; forwarderText: string | null } {
  const blank = (i: number) => /^[\s>]*$/u.test(lines[i]!);
  let end = block.start;
  while (end > 0 && blank(end - 1)) end--;
  if (end > 0 && isSeparatorLine(lines[end - 1]!)) end--;
  return { text: readBody(lines, block.bodyFrom, block.depth), forwarderText: lines.slice(0, end).join('\n').trim() || null };
}

/** True when the text contains a forward separator of Gmail, Outlook, Apple Mail, Thunderbird and the like. */
export function hasForwardMarker(text: string): boolean {
  const lines = text.replace(/\r\n?/gu, '\n').split('\n');
  return lines.some((_, i) => markerAt(lines, i) !== null);
}

function isSeparatorLine(raw: string): boolean {
  const line = raw.slice(QUOTE_PREFIX.exec(raw)![0].length).trim();
  const intro = INTRO.exec(line);
  return SEPARATORS.test(line) || DASH_RULE.test(line) || RULE.test(line) || (intro !== null && INTROS.has(intro[1]!.toLowerCase()));
}

function markerAt(lines: readonly string[], i: number): Marker | null {
  const prefix = QUOTE_PREFIX.exec(lines[i]!)![0];
  const line = lines[i]!.slice(prefix.length).trim();
  const depth = prefix.split('>').length - 1;
  const intro = INTRO.exec(line);
  if (SEPARATORS.test(line) || (intro && INTROS.has(intro[1]!.toLowerCase()))) return { depth, headersFrom: i + 1 };
  if (RULE.test(line) || DASH_RULE.test(line)) return namesSender(lines, i + 1, depth) ? { depth, headersFrom: i + 1 } : null;
  if (headerAt(lines[i]!, depth)?.field === 'from' && headerAt(lines[i + 1] ?? '', depth)?.field === 'date') return { depth, headersFrom: i };
  return null;
}

/**
 * The header block after a marker: blank lines skipped, then `Key: value` lines up to a blank line.
 * `known`: only labels we know count as headers (our own rules); else any `Key: value` line does.
 */
function readHeaders(lines: readonly string[], marker: Marker, known = true): Omit<Block, 'start'> | null {
  const fields: Block['fields'] = {};
  let current: Field | null = null;
  let i = marker.headersFrom;
  while (i < lines.length && unquote(lines[i]!, marker.depth)?.trim() === '') i++;
  for (; i < lines.length; i++) {
    let line = unquote(lines[i]!, marker.depth)?.trim();
    // HTML converted to text may put a blank line between header lines (one block each).
    if (line === '' && current !== null) {
      let next = i + 1;
      while (next < lines.length && unquote(lines[next]!, marker.depth)?.trim() === '') next++;
      if (next < lines.length && next - i <= 2 && headerAt(lines[next]!, marker.depth)) {
        i = next;
        line = unquote(lines[i]!, marker.depth)!.trim();
      }
    }
    if (!line) break;
    // Another forward starts here, not a wrapped value: without this stop, each of many markers
    // would read on to the end of the text (quadratic).
    if (i > marker.headersFrom && markerAt(lines, i)) break;
    const labelled = labelledAt(lines[i]!, marker.depth);
    const header = labelled && (labelled.field !== null ? { ...labelled, field: labelled.field } : known ? null : { ...labelled, field: 'other' as const });
    if (header) {
      // Only the first of a field counts (Outlook may write both Sent: and Date:).
      current = header.field !== 'other' && fields[header.field] === undefined ? header.field : 'other';
      if (current !== 'other') fields[current] = header.value;
    } else if (current === null) {
      return null;
    } else if (current !== 'other') {
      // A wrapped value continues on lines that do not look like `Key:`.
      fields[current] = `${fields[current]} ${line}`.trim();
    }
  }
  if (fields.from === undefined && known) return null;
  return { depth: marker.depth, fields, bodyFrom: i, from: fields.from === undefined ? null : parseFrom(fields.from) };
}

/** A From line among the first header lines after a rule (Thunderbird writes Subject and Date first). */
function namesSender(lines: readonly string[], from: number, depth: number): boolean {
  let i = from;
  while (i < lines.length && unquote(lines[i]!, depth)?.trim() === '') i++;
  for (const end = Math.min(lines.length, i + 8); i < end; i++) {
    const header = headerAt(lines[i]!, depth);
    if (!header) return false;
    if (header.field === 'from') return true;
  }
  return false;
}

/** A header line with a label we know. */
function headerAt(raw: string, depth: number): Header | null {
  const header = labelledAt(raw, depth);
  return header && header.field !== null ? { ...header, field: header.field } : null;
}

/** Any `Key: value` line; `field` is null for a label we do not know. */
function labelledAt(raw: string, depth: number): { name: string; field: Field | null; value: string } | null {
  const line = raw.length > LINE_LIMIT ? '' : (unquote(raw, depth)?.trim() ?? '');
  const match = HEADER_LINE.exec(line);
  if (!match) return null;
  const name = match[1]!.toLowerCase();
  return { name, field: HEADER_FIELDS.get(name) ?? null, value: match[2]!.trim() };
}

/** The forwarded words: up to where the forward's own quoting ends, one uniform `>` level removed. */
function readBody(lines: readonly string[], from: number, depth: number): string {
  const body: string[] = [];
  for (const raw of lines.slice(from)) {
    const line = unquote(raw, depth);
    if (line === null) break;
    body.push(line);
  }
  const nonEmpty = body.filter((line) => line.trim() !== '');
  const quoted = nonEmpty.length > 0 && nonEmpty.every((line) => ONE_QUOTE_LEVEL.test(line));
  return (quoted ? body.map((line) => unquote(line, 1) ?? line) : body).join('\n').trim();
}

/** The line without `levels` leading `>` levels; null when a non-blank line has fewer. */
function unquote(line: string, levels: number): string | null {
  let rest = line;
  for (let n = 0; n < levels; n++) {
    const level = ONE_QUOTE_LEVEL.exec(rest);
    if (!level) return rest.trim() === '' ? '' : null;
    rest = rest.slice(level[0].length);
  }
  return rest;
}

/** `Jane Doe <jane@x>`, `"Doe, Jane" <jane@x>`, `*Jane* <jane@x>`, `Jane [mailto:jane@x]`, `jane@x`. */
export function parseFrom(value: string): Sender | null {
  const found = ADDRESS.exec(value);
  if (!found) return null;
  const address = normaliseAddress(found[0]);
  const cut = value.search(/[<[]/u);
  return { address, name: displayName(cut >= 0 ? value.slice(0, cut) : value.replace(found[0], ''), address) };
}

/** A display name without quotes, bold marks and `(...)` around it; null when empty or the address itself. */
export function displayName(raw: string | null | undefined, address: string): string | null {
  let name = (raw ?? '').replace(/^[\s"'*]+|[\s"'*]+$/gu, '');
  if (/^\(.*\)$/u.test(name)) name = name.slice(1, -1).trim(); // `jane@x (Jane Doe)`
  name = name.replace(/\s+/gu, ' ');
  return name === '' || name.toLowerCase() === address ? null : name;
}

/** Lower-case, IDN domain as Unicode, like every other address in the pipeline. */
export function normaliseAddress(raw: string): string {
  const address = raw.replace(/\.+$/u, '').toLowerCase();
  const at = address.lastIndexOf('@');
  const domain = address.slice(at + 1);
  if (!domain.split('.').some((label) => label.startsWith('xn--'))) return address;
  return `${address.slice(0, at)}@${domainToUnicode(domain) || domain}`;
}
