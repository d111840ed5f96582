/**
 * Runs in a worker thread (see parse-stored.ts): a large stored email parsed away from the thread
 * that serves HTTP. A refusal comes back as a value, since error classes do not cross threads.
 */
import type { NormalisedEmail } from './email.ts';
import type { InboundSource } from './ledger.ts';
import { parseHere, UnparseableEmailError } from './parse-stored.ts';
import { capText } from '../domain/text.ts';
import { ENTRY_LIMITS } from '../domain/timeline-entries.ts';

export type ParseTask = { source: InboundSource; raw: Uint8Array };
export type ParseResult = { ok: true; email: NormalisedEmail } | { ok: false; message: string };

export default async function parseTask(task: ParseTask): Promise<ParseResult> {
  try {
    const email = await parseHere(task.source, Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength));
    // Cut here to what an entry stores: 60 MB of text copied back and measured held the HTTP thread for a quarter of a second.
    const text = capText(email.text, ENTRY_LIMITS.textChars);
    return { ok: true, email: text.fullSize === null ? email : { ...email, text: text.value, textSize: text.fullSize } };
  } catch (err) {
    if (err instanceof UnparseableEmailError) return { ok: false, message: err.message };
    throw err;
  }
}
