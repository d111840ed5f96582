/**
 * Runs in a worker thread (see parse-stored.ts): a large stored email parsed away from the thread
 * that serves HTTP. A refusal comes back as a value, since error classes do not cross threads.
 */
import type { NormalisedEmail } from './email.ts';
import type { InboundSource } from './ledger.ts';
import { parseHere, UnparseableEmailError } from './parse-stored.ts';

export type ParseTask = { source: InboundSource; raw: Uint8Array };
export type ParseResult = { ok: true; email: NormalisedEmail } | { ok: false; message: string };

export default async function parseTask(task: ParseTask): Promise<ParseResult> {
  try {
    return { ok: true, email: await parseHere(task.source, Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength)) };
  } catch (err) {
    if (err instanceof UnparseableEmailError) return { ok: false, message: err.message };
    throw err;
  }
}
