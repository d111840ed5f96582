/**
 * Thread titles from email subjects: the reply/forward prefixes mail clients pile up in many
 * languages (`Re: AW: Fwd: Invoice`) are noise, the words after them are the title.
 */

/** Prefixes that mark a reply: English, German (AW/Antw), Nordic (SV), Italian (R), Chinese. */
const REPLY_PREFIXES = Object.freeze(['re', 'aw', 'sv', 'antw', 'ref', 'r', '回复', '答复']);

/** Prefixes that mark a forward: English, German (WG), French (TR), Spanish (RV), Norwegian (VS), Dutch. */
const FORWARD_PREFIXES = Object.freeze(['fwd', 'fw', 'wg', 'tr', 'rv', 'vs', 'doorst', '转发']);

// Either colon, an optional `[2]`/`(2)` counter, an optional dot (`Doorst.:`) and a space before the
// colon (French `TR :`) are all seen in the wild.
const PREFIX = new RegExp(
  `^(${[...REPLY_PREFIXES, ...FORWARD_PREFIXES].join('|')})` +
    String.raw`\.?[ \t]*(?:\[\d+\]|\(\d+\))?[ \t]*[:：]\s*`,
  'iu',
);

/** A bracketed tag such as Outlook's `[EXTERNAL]` or a list's `[acme-users]`; kept in the title. */
const TAG = /^\[[^\]\n]*\]\s*/u;

const FORWARDS: ReadonlySet<string> = new Set(FORWARD_PREFIXES);

type Prefixes = { kinds: ('reply' | 'forward')[]; tags: string[]; rest: string };

/** Peels prefixes off the start, also those behind a leading tag (`RE: [EXTERNAL] RE: x`). */
function peel(subject: string): Prefixes {
  const kinds: Prefixes['kinds'] = [];
  const tags: string[] = [];
  let rest = subject.replace(/\s+/gu, ' ').trim();
  for (;;) {
    const prefix = PREFIX.exec(rest);
    if (prefix) {
      kinds.push(FORWARDS.has(prefix[1]!.toLowerCase()) ? 'forward' : 'reply');
      rest = rest.slice(prefix[0].length);
      continue;
    }
    const tag = TAG.exec(rest);
    // A tag only counts as part of the prefix run when more prefixes follow it.
    if (tag && PREFIX.test(rest.slice(tag[0].length))) {
      tags.push(tag[0].trim());
      rest = rest.slice(tag[0].length);
      continue;
    }
    return { kinds, tags, rest };
  }
}

/** The thread title: every reply/forward prefix at the start removed, whitespace collapsed. */
export function cleanSubject(subject: string): string {
  const { tags, rest } = peel(subject);
  const title = [...tags, rest].join(' ').trim();
  return title === '' ? '(no subject)' : title;
}

/** True when the first prefix after any run of reply prefixes is a forward one (`Re: Fwd: x`). */
export function hasForwardPrefix(subject: string): boolean {
  return peel(subject).kinds.find((kind) => kind !== 'reply') === 'forward';
}
