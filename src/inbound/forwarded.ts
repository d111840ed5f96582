import EmailForwardParser from 'email-forward-parser';
import { ADDRESS, blockAround, displayName, findBlock, LINE_LIMIT, normaliseAddress, prepareLines, readBlock, type Block, type ForwardParse } from './forward-blocks.ts';
import { runInWorker } from './worker-pool.ts';

export { hasForwardMarker } from './forward-blocks.ts';
export type { ForwardedMessage, ForwardParse } from './forward-blocks.ts';

/**
 * An agent forwards a customer's email into the support inbox: the thread belongs to the customer,
 * so we dig the original message (sender, subject, date, words) out of the forwarded plain text.
 *
 * email-forward-parser reads the forward (the separators and header labels of Apple Mail, Gmail,
 * Outlook, Yahoo, Thunderbird, HubSpot, Missive, MailMate and IONOS in 22 languages). Our own
 * code (forward-blocks.ts) undoes what HTML-to-text and bold labels do to a header before the
 * library sees it, bounds the forwarded words (quoting, the forwarder's note), and reads the
 * forwards the library has no pattern for (Chinese, Japanese, some localised Outlook dates).
 */

export const FORWARD_LIMITS = Object.freeze({
  // The library's patterns backtrack super-linearly on some long lines (a 7,200-character line
  // takes 15 s): it runs in a worker thread within this budget, then our linear rules alone.
  budgetMs: 2_000,
  // It reads the start of the text, where a forward's header is; the words are bounded by us.
  libraryChars: 32 * 1024,
});

export type ForwardOptions = {
  /** The subject says forward (`Fwd:`, `WG:`, `RV:`, ...): a header block without a separator line counts. */
  subjectSaysForward?: boolean;
};

let library: EmailForwardParser | null = null;
const parser = () => (library ??= new EmailForwardParser());

/** A forward subject in the library's languages (`I:`, `PD:`, `ENC:`, `VL:`, `İLT:`, ...). */
export function isForwardSubject(subject: string): boolean {
  return parser().read('', subject.slice(0, LINE_LIMIT)).forwarded;
}

/** Finds the first forwarded block in a plain-text body; null when there is none or its sender has no address. */
export async function parseForwardedText(text: string, options: ForwardOptions = {}): Promise<ForwardParse | null> {
  try {
    return await runInWorker<ForwardParse | null>(WORKER, { text, options }, FORWARD_LIMITS.budgetMs);
  } catch {
    // Out of time (hostile text) or the worker died: our own rules, linear, on this thread.
    return readOwnForward(prepareLines(text));
  }
}

const WORKER = new URL('./forwarded-worker.ts', import.meta.url);

/** What parseForwardedText does, on this thread: the library's reading, bounded by ours. */
export function readForwardedText(text: string, options: ForwardOptions = {}): ForwardParse | null {
  const lines = prepareLines(text);
  const own = findBlock(lines);
  const read = readWithLibrary(lines, options.subjectSaysForward === true);
  if (!read) return own ? fromBlock(lines, own) : null;
  const block = own?.from?.address === read.from.address ? own : blockAround(lines, read.from.address);
  const bounds = block ? readBlock(lines, block) : { text: read.body, forwarderText: read.message };
  // The library's value is kept when it was read from the sender's header block (it may take a
  // Subject line of an earlier block that has no sender); else the block's own labelled value.
  const header = block ? lines.slice(block.start, block.bodyFrom).join(' ').replace(/\s+/gu, ' ') : '';
  const pick = (value: string | null, own: string | undefined) => (value && (!block || header.includes(value)) ? value : own || value);
  return {
    original: {
      from: { address: read.from.address, name: read.from.name ?? block?.from?.name ?? null },
      subject: pick(read.subject, block?.fields.subject),
      date: pick(read.date, block?.fields.date),
      text: bounds.text,
    },
    forwarderText: bounds.forwarderText,
  };
}

function readOwnForward(lines: string[]): ForwardParse | null {
  const own = findBlock(lines);
  return own ? fromBlock(lines, own) : null;
}

/** A forward whose sender has no address (Outlook's `From: Jane Doe`) cannot name a customer. */
function fromBlock(lines: readonly string[], block: Block): ForwardParse | null {
  if (!block.from) return null;
  const { text, forwarderText } = readBlock(lines, block);
  return { original: { from: block.from, subject: block.fields.subject || null, date: block.fields.date || null, text }, forwarderText };
}

type LibraryRead = { from: { address: string; name: string | null }; subject: string | null; date: string | null; body: string; message: string | null };

function readWithLibrary(lines: readonly string[], subjectSaysForward: boolean): LibraryRead | null {
  const head = lines.join('\n').slice(0, FORWARD_LIMITS.libraryChars);
  // Lines no header reaches are cut, which bounds the library's backtracking per line.
  const text = head.split('\n').map((line) => line.slice(0, LINE_LIMIT)).join('\n');
  // With a forward subject the library may split at a From line when it finds no separator.
  const subject = subjectSaysForward ? 'Fwd: ' : undefined;
  let result = parser().read(text, subject);
  // Its separators are unquoted; a forward quoted in a reply (`> -----Original Message-----`) is read unquoted.
  if (!sender(result) && /^[ \t]*>/mu.test(text)) result = parser().read(text.replace(/^[ \t]*(?:>[ \t]?)+/gmu, ''), subject);
  const from = sender(result);
  if (!from) return null;
  const clean = (value: string | null | undefined) => value?.replace(/\s+/gu, ' ').trim() || null;
  return {
    from: { address: from, name: displayName(result.email.from.name, from) },
    subject: clean(result.email.subject),
    date: clean(result.email.date),
    body: result.email.body?.trim() ?? '',
    message: result.message?.trim() || null,
  };
}

function sender(result: ReturnType<EmailForwardParser['read']>): string | null {
  const raw = result.forwarded ? result.email.from.address?.trim() : null;
  const found = raw ? ADDRESS.exec(raw) : null;
  return found && found[0] === raw ? normaliseAddress(raw) : null;
}
