import type { HtmlTextResult, HtmlTextTask } from './html-text-worker.ts';
import { runInWorker } from './worker-pool.ts';

/**
 * HTML to plain text for the inbound pipeline, with bounded work. html-to-text builds a tree and
 * walks it recursively: 2,500 nested elements overflow the stack, and htmlparser2's element
 * stack makes deep nesting quadratic (100,000 levels: 5 s; 500,000: minutes). So conversion runs
 * in worker threads under a time budget, and only HTML up to a size is given to the full
 * converter; anything else gets a linear tag strip. The HTML itself is always kept.
 */
export const HTML_TEXT_LIMITS = Object.freeze({
  // 2 MiB of ordinary markup converts in under 1 s here; real mail is far smaller.
  maxFullChars: 2 * 1024 * 1024,
  // Estimated element depth; html-to-text overflows its stack at about 2,500 on the main thread.
  // Real mail, even long Outlook reply chains, stays in the low hundreds.
  maxDepth: 1_000,
  // Per conversion, from when it starts on a thread: several times the slowest legitimate one.
  budgetMs: 5_000,
});

export type HtmlText = {
  /** At most the caller's maxChars; null when no text could be had within the budget. */
  text: string | null;
  /** UTF-8 bytes of the whole text, before it was cut to maxChars. */
  size: number;
  /** `full`: html-to-text; `stripped`: the linear fallback; `none`: neither finished. */
  method: 'full' | 'stripped' | 'none';
};

const WORKER = new URL('./html-text-worker.ts', import.meta.url);

async function run(task: HtmlTextTask, budgetMs: number): Promise<HtmlTextResult | null> {
  try {
    return await runInWorker<HtmlTextResult>(WORKER, task, budgetMs);
  } catch {
    // Out of time or memory, or the worker died: the caller falls back.
    return null;
  }
}

export async function htmlToText(html: string, options: { maxChars: number; budgetMs?: number }): Promise<HtmlText> {
  const budgetMs = options.budgetMs ?? HTML_TEXT_LIMITS.budgetMs;
  const task = { html, maxChars: options.maxChars, maxFullChars: HTML_TEXT_LIMITS.maxFullChars, maxDepth: HTML_TEXT_LIMITS.maxDepth };
  // Out of time (or memory) with the full converter: the strip alone, with a budget of its own.
  const result = (await run({ ...task, mode: 'auto' }, budgetMs)) ?? (await run({ ...task, mode: 'strip' }, budgetMs));
  if (!result) return { text: null, size: 0, method: 'none' };
  return { text: /\S/u.test(result.text) ? result.text : null, size: result.size, method: result.method };
}
