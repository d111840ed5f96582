import { compile } from 'html-to-text';

/**
 * A thread body as the entry's text and HTML. Help Scout keeps email bodies as the HTML it
 * received, chat and phone notes often as plain text. The HTML is kept whole; the text comes from
 * its first `MAX_HTML_FOR_TEXT` characters, with the converter's walk depth bounded: the body is
 * mail from anyone, and htmlparser2's cost grows with the square of hostile nesting.
 */
const MAX_HTML_FOR_TEXT = 128 * 1024;
const toText = compile({ wordwrap: false, limits: { maxDepth: 300, maxChildNodes: 20_000 }, selectors: [{ selector: 'img', format: 'skip' }] });
const LOOKS_LIKE_HTML = /<(?:[a-z][a-z0-9-]*|!doctype)[\s/>]/i;

export function bodyText(body: string | null | undefined): { text: string | null; html: string | null } {
  if (body === null || body === undefined || body.trim() === '') return { text: null, html: null };
  if (!LOOKS_LIKE_HTML.test(body)) return { text: body, html: null };
  let text: string | null;
  try {
    text = toText(body.length > MAX_HTML_FOR_TEXT ? body.slice(0, MAX_HTML_FOR_TEXT) : body).trim();
  } catch {
    // The HTML stays; a body the converter cannot read simply has no text.
    text = null;
  }
  return { text: text || null, html: body };
}
