import { domainToUnicode } from 'node:url';

/**
 * An agent forwards a customer's email into the support inbox: the thread belongs to the customer,
 * so we dig the original message (sender, subject, date, words) out of the forwarded plain text.
 */

export type ForwardedMessage = { from: { address: string; name: string | null }; subject: string | null; date: string | null; text: string };
export type ForwardParse = { original: ForwardedMessage; forwarderText: string | null };

// Compared after leading whitespace and `>` quoting are removed from the line.
const MARKERS: readonly RegExp[] = Object.freeze([
  // Gmail, Thunderbird and their translations; Outlook's "Original Message" and its translations.
  /^-{2,}\s*(forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|mensaje reenviado|doorgestuurd bericht|original message|ursprüngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht)\s*-{2,}$/iu,
  // Apple Mail and its translations.
  /^(begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|inicio del mensaje reenviado|begin doorgestuurd bericht)\s*:$/iu,
]);

/** Outlook's horizontal rule; a forward only when a header block follows it (it is also a signature rule). */
const UNDERSCORES = /^_{10,}$/u;

type Field = 'from' | 'date' | 'subject' | 'other';

/** Header names of the forward blocks, lower-case, in every language we parse. */
const HEADER_FIELDS: Readonly<Record<string, Field>> = Object.freeze({
  from: 'from', von: 'from', de: 'from', van: 'from',
  date: 'date', sent: 'date', gesendet: 'date', datum: 'date', envoyé: 'date', fecha: 'date', enviado: 'date', 'enviado el': 'date', verzonden: 'date',
  subject: 'subject', betreff: 'subject', objet: 'subject', asunto: 'subject', onderwerp: 'subject',
  to: 'other', cc: 'other', bcc: 'other', 'reply-to': 'other', an: 'other', à: 'other', para: 'other', aan: 'other', cci: 'other',
  'antwort an': 'other', 'répondre à': 'other', 'responder a': 'other', 'beantwoorden aan': 'other', importance: 'other', wichtigkeit: 'other',
});

// Outlook without a separator (new Outlook, Outlook on the web): From: directly followed by Sent:.
const SENT_NAMES: ReadonlySet<string> = new Set(['sent', 'gesendet', 'envoyé', 'enviado', 'enviado el', 'verzonden']);

// `Key: value`, also `De : value` (French spacing) and Gmail's bold `*From:* value`.
const HEADER_LINE = /^\**([\p{L}][\p{L}-]*(?: [\p{L}-]+)?)[\s*]*[:：]\**\s*(.*)$/u;
const QUOTE_PREFIX = /^[\s>]*/u;
const ONE_QUOTE_LEVEL = /^[ \t]*>[ \t]?/u;
// Bounded (RFC 5321 lengths) so a huge header line without an `@` is scanned in linear time.
const ADDRESS = /[^\s<>()[\]"',;:*]{1,64}@[^\s<>()[\]"',;:*]{1,255}/u;

type Header = { name: string; field: Field; value: string };
type Marker = { depth: number; headersFrom: number };
type Block = { fields: Partial<Record<Field, string>>; bodyFrom: number };

/** Finds the first forwarded block in a plain-text body; null when there is none. */
export function parseForwardedText(text: string): ForwardParse | null {
  const lines = text.replace(/\r\n?/gu, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const marker = markerAt(lines, i);
    const block = marker && readHeaders(lines, marker);
    if (!marker || !block) continue;
    // A forward whose sender has no address (Outlook's `From: Jane Doe`) cannot name a customer.
    const from = parseFrom(block.fields.from ?? '');
    if (!from) return null;
    return {
      original: {
        from,
        subject: block.fields.subject || null,
        date: block.fields.date || null,
        text: readBody(lines, block.bodyFrom, marker.depth),
      },
      forwarderText: lines.slice(0, i).join('\n').trim() || null,
    };
  }
  return null;
}

/** True when the text contains a forward marker of Gmail, Outlook, Apple Mail or Thunderbird. */
export function hasForwardMarker(text: string): boolean {
  const lines = text.replace(/\r\n?/gu, '\n').split('\n');
  return lines.some((_, i) => markerAt(lines, i) !== null);
}

function markerAt(lines: readonly string[], i: number): Marker | null {
  const prefix = QUOTE_PREFIX.exec(lines[i]!)![0];
  const line = lines[i]!.slice(prefix.length).trim();
  const depth = prefix.split('>').length - 1;
  if (MARKERS.some((marker) => marker.test(line))) return { depth, headersFrom: i + 1 };
  if (UNDERSCORES.test(line)) {
    const next = firstHeader(lines, i + 1, depth);
    return next?.field === 'from' ? { depth, headersFrom: i + 1 } : null;
  }
  if (headerAt(lines[i]!, depth)?.field === 'from' && SENT_NAMES.has(headerAt(lines[i + 1] ?? '', depth)?.name ?? '')) {
    return { depth, headersFrom: i };
  }
  return null;
}

/** The header block after a marker: blank lines skipped, then `Key: value` lines up to a blank line. */
function readHeaders(lines: readonly string[], marker: Marker): Block | null {
  const fields: Block['fields'] = {};
  let current: Field | null = null;
  let i = marker.headersFrom;
  while (i < lines.length && unquote(lines[i]!, marker.depth)?.trim() === '') i++;
  for (; i < lines.length; i++) {
    const line = unquote(lines[i]!, marker.depth)?.trim();
    if (!line) break;
    // Another forward starts here, not a wrapped value: without this stop, each of many markers
    // would read on to the end of the text (quadratic).
    if (i > marker.headersFrom && markerAt(lines, i)) break;
    const header = headerAt(lines[i]!, marker.depth);
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
  return fields.from === undefined ? null : { fields, bodyFrom: i };
}

function firstHeader(lines: readonly string[], from: number, depth: number): Header | null {
  for (let i = from; i < lines.length; i++) {
    const line = unquote(lines[i]!, depth);
    if (line === null) return null;
    if (line.trim() !== '') return headerAt(lines[i]!, depth);
  }
  return null;
}

function headerAt(raw: string, depth: number): Header | null {
  const match = HEADER_LINE.exec(unquote(raw, depth)?.trim() ?? '');
  const name = match?.[1]!.toLowerCase() ?? '';
  if (!match || !Object.hasOwn(HEADER_FIELDS, name)) return null;
  return { name, field: HEADER_FIELDS[name]!, value: match[2]!.trim() };
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
function parseFrom(value: string): ForwardedMessage['from'] | null {
  const found = ADDRESS.exec(value);
  if (!found) return null;
  const address = normaliseAddress(found[0]);
  const cut = value.search(/[<[]/u);
  const raw = cut >= 0 ? value.slice(0, cut) : value.replace(found[0], '');
  let name = raw.replace(/^[\s"'*]+|[\s"'*]+$/gu, '');
  if (/^\(.*\)$/u.test(name)) name = name.slice(1, -1).trim(); // `jane@x (Jane Doe)`
  return { address, name: name === '' || name.toLowerCase() === address ? null : name };
}

/** Lower-case, IDN domain as Unicode, like every other address in the pipeline. */
function normaliseAddress(raw: string): string {
  const address = raw.replace(/\.+$/u, '').toLowerCase();
  const at = address.lastIndexOf('@');
  const domain = address.slice(at + 1);
  if (!domain.split('.').some((label) => label.startsWith('xn--'))) return address;
  return `${address.slice(0, at)}@${domainToUnicode(domain) || domain}`;
}
