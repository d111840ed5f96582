/**
 * Runs in a worker thread (see html-text.ts): HTML to plain text, away from the thread that serves
 * HTTP, so a hostile body can cost this thread its time budget but never stall the service.
 */
import { convert } from 'html-to-text';
import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';
import { clip } from '../domain/text.ts';

/**
 * `auto`: the full converter when the HTML is within maxFullChars and maxDepth, else the strip;
 * `strip`: the strip only (after `auto` ran out of time).
 */
export type HtmlTextTask = { html: string; mode: 'auto' | 'strip'; maxChars: number; maxFullChars: number; maxDepth: number };
export type HtmlTextResult = { text: string; size: number; method: 'full' | 'stripped' };

export default function htmlTextTask(task: HtmlTextTask): HtmlTextResult {
  const rough = stripHtml(task.html);
  let text = rough.text;
  let method: HtmlTextResult['method'] = 'stripped';
  if (task.mode === 'auto' && task.html.length <= task.maxFullChars && rough.depth <= task.maxDepth) {
    try {
      text = convert(task.html, { wordwrap: false });
      method = 'full';
    } catch {
      // A converter failure on this HTML would recur on every attempt: keep the rough text.
    }
  }
  // Only the first maxChars cross back to the caller; the size tells what the whole text was.
  return { text: clip(text, task.maxChars), size: Buffer.byteLength(text), method };
}

// Elements that start a new line in the rough text.
const BLOCKS: ReadonlySet<string> = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2',
  'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'tr', 'ul',
]);
// Elements a parser closes by itself when the next one opens: they do not deepen the tree.
const SELF_ENDING: ReadonlySet<string> = new Set([
  'p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot', 'option', 'optgroup', 'rt', 'rp', 'colgroup',
]);
const VOID: ReadonlySet<string> = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

// Elements whose content is not text a reader sees.
const HIDDEN: ReadonlySet<string> = new Set(['script', 'style', 'title', 'template', 'noscript', 'head']);

/**
 * A rough text for HTML the full converter cannot take (too big, too deep, too slow): the text
 * runs of htmlparser2's tokenizer, with a line break at block elements; and the nesting depth,
 * estimated without a tree. One pass, so time and memory stay linear however deep it nests.
 */
export function stripHtml(html: string): { text: string; depth: number } {
  const out: string[] = [];
  let hidden: string | null = null;
  let tag = '';
  let depth = 0;
  let maxDepth = 0;
  const nests = (t: string) => !VOID.has(t) && !SELF_ENDING.has(t);
  const emit = (s: string) => {
    if (hidden === null) out.push(s.replace(/\s+/gu, ' '));
  };
  const breakLine = () => {
    if (hidden === null) out.push('\n');
  };
  const name = (start: number, end: number) => html.slice(start, end).toLowerCase();
  const callbacks: TokenizerCallbacks = {
    ontext: (start, end) => emit(html.slice(start, end)),
    ontextentity: (codepoint) => emit(String.fromCodePoint(codepoint)),
    onopentagname: (start, end) => {
      tag = name(start, end);
      if (nests(tag)) maxDepth = Math.max(maxDepth, ++depth);
      if (hidden === null && HIDDEN.has(tag)) hidden = tag;
      else if (BLOCKS.has(tag)) breakLine();
    },
    onclosetag: (start, end) => {
      const closed = name(start, end);
      if (nests(closed)) depth = Math.max(0, depth - 1);
      if (hidden === closed) hidden = null;
      else if (BLOCKS.has(closed)) breakLine();
    },
    onselfclosingtag: () => {
      if (nests(tag)) depth = Math.max(0, depth - 1);
      if (hidden === tag) hidden = null;
    },
    oncdata: (start, end) => emit(html.slice(start, end)),
    onattribdata: () => {},
    onattribentity: () => {},
    onattribend: () => {},
    onattribname: () => {},
    oncomment: () => {},
    ondeclaration: () => {},
    onend: () => {},
    onopentagend: () => {},
    onprocessinginstruction: () => {},
  };
  const tokenizer = new Tokenizer({ decodeEntities: true }, callbacks);
  tokenizer.write(html);
  tokenizer.end();
  const text = out
    .join('')
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .replace(/\n{3,}/gu, '\n\n')
    .trim();
  return { text, depth: maxDepth };
}
