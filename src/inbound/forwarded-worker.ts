/**
 * Runs in a worker thread (see forwarded.ts): a forward read with email-forward-parser, whose
 * patterns can backtrack for seconds on hostile text, away from the thread that serves HTTP.
 */
import type { ForwardParse } from './forward-blocks.ts';
import { readForwardedText, type ForwardOptions } from './forwarded.ts';

export type ForwardTask = { text: string; options: ForwardOptions };

export default function forwardTask(task: ForwardTask): ForwardParse | null {
  return readForwardedText(task.text, task.options);
}
