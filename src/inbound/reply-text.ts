import EmailReplyParser from 'email-reply-parser';

/**
 * The customer's new words in a reply: quoted history and the signature block removed.
 * email-reply-parser does most of the work; the markers below catch what it misses (it only sees
 * a quote header after a blank line, and not at all when the header carries no address).
 */

// Attribution lines ("On <date>, <name> wrote:"). Each must contain a digit (the date) so that
// prose such as "On second thought, she wrote:" is not mistaken for one.
const ATTRIBUTIONS: readonly RegExp[] = Object.freeze([
  /^On\s.*\d.*\swrote:$/iu, // Gmail, Apple Mail
  /^Am\s.*\d.*\sschrieb\s.*:$/iu, // German
  /^Le\s.*\d.*\sa\s+écrit\s*:$/iu, // French (often a no-break space before the colon)
  /^El\s.*\d.*\sescribió\s*:$/iu, // Spanish
  /^Op\s.*\d.*\sschreef\s.*:$/iu, // Dutch
]);

// Real attributions are short; the cap keeps the `.*\d.*` patterns linear on huge lines.
const MAX_ATTRIBUTION = 400;

/** Outlook's separator lines, in the languages we parse headers in. */
const SEPARATOR =
  /^-{3,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht)\s*-{3,}$/iu;
const UNDERSCORES = /^_{10,}$/u;

// Outlook's quoted header block starts with From: directly followed by Sent: (or their translations).
const FROM_KEY = /^\*?(from|von|de|van)\*?\s*:/iu;
const SENT_KEY = /^\*?(sent|date|gesendet|datum|envoyé|enviado(\s+el)?|fecha|verzonden)\*?\s*:/iu;

const QUOTE_LINE = /^\s*>/u;

const parser = new EmailReplyParser();

// email-reply-parser's patterns (`On\s.+\s.+wrote:` ...) are super-linear on long lines; past these
// limits only our own linear cuts run, so a hostile body cannot stall ingestion.
const PARSER_LIMITS = Object.freeze({ maxChars: 100_000, maxLine: 4_000 });

/** The reply without quoted history or signature block, trimmed; null when nothing is left. */
export function replyText(text: string | null): string | null {
  if (text === null) return null;
  const normalised = text.replace(/\r\n?/gu, '\n');
  // Cut before the parser too: its multi-line header patterns can glue new words to the history.
  const cut = cutHistory(normalised);
  const { text: shortened, restore } = setAsideLongLines(cut);
  const visible = withinParserLimits(shortened) ? restore(parser.read(shortened).getVisibleText()) : cut;
  const reply = cutHistory(visible).trim();
  return reply === '' ? null : reply;
}

// A line this long is a paragraph, never a quote header or signature; the parser's ~50 regexes
// per line cost the most on exactly these, so they go past it as short placeholders.
const LONG_LINE = 300;
const PLACEHOLDER = /\u0001(\d+)\u0001/gu;

function setAsideLongLines(text: string): { text: string; restore: (visible: string) => string } {
  const long: string[] = [];
  const shortened = text
    .split('\n')
    .map((line) => (line.length > LONG_LINE ? `\u0001${long.push(line) - 1}\u0001` : line))
    .join('\n');
  return { text: shortened, restore: (visible) => visible.replace(PLACEHOLDER, (_m, i: string) => long[Number(i)] ?? '') };
}

function withinParserLimits(text: string): boolean {
  return text.length <= PARSER_LIMITS.maxChars && text.split('\n').every((line) => line.length <= PARSER_LIMITS.maxLine);
}

/** The text before the first history marker, without quoted (`>`) lines. */
function cutHistory(text: string): string {
  const lines = text.split('\n');
  const end = lines.findIndex((_, i) => startsHistory(lines, i));
  const kept = end === -1 ? lines : lines.slice(0, end);
  return kept.filter((line) => !QUOTE_LINE.test(line)).join('\n');
}

function startsHistory(lines: readonly string[], i: number): boolean {
  const line = lines[i]!.trim();
  if (line === '') return false;
  if (SEPARATOR.test(line)) return true;
  if (UNDERSCORES.test(line)) return startsHeaderBlock(lines, nextNonEmpty(lines, i + 1));
  if (startsHeaderBlock(lines, i)) return true;
  if (isAttribution(line)) return true;
  // Gmail and others wrap a long attribution over two lines.
  const next = lines[i + 1]?.trim() ?? '';
  return next !== '' && !isAttribution(next) && isAttribution(`${line} ${next}`);
}

function isAttribution(line: string): boolean {
  return line.length <= MAX_ATTRIBUTION && ATTRIBUTIONS.some((pattern) => pattern.test(line));
}

function startsHeaderBlock(lines: readonly string[], i: number): boolean {
  if (i < 0 || !FROM_KEY.test(lines[i]?.trim() ?? '')) return false;
  // The From value may wrap onto one more line before Sent: comes.
  return [lines[i + 1], lines[i + 2]].some((line) => line !== undefined && SENT_KEY.test(line.trim()));
}

function nextNonEmpty(lines: readonly string[], from: number): number {
  for (let i = from; i < lines.length; i++) if (lines[i]!.trim() !== '') return i;
  return -1;
}
