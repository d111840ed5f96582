/** Runs in a worker thread (see postmark-receipt.ts): a large Postmark payload read away from the thread that serves HTTP. */
import { readPostmark } from './postmark-receipt.ts';

export default function readTask(task: { raw: Uint8Array; charset: string | null }) {
  return readPostmark(Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength), task.charset);
}
