import { z } from 'zod';
import type { NormalisedEmail } from './email.ts';
import type { InboundSource } from './ledger.ts';
import { looksLikeMime } from './mime-check.ts';
import { normaliseMime } from './normalise-mime.ts';
import { normalisePostmark } from './normalise-postmark.ts';
import type { ParseResult, ParseTask } from './parse-worker.ts';
import { postmarkInboundSchema } from './postmark-payload.ts';
import { runInWorker, WorkerLimitError } from './worker-pool.ts';

export class UnparseableEmailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnparseableEmailError';
  }
}

/**
 * Above this size a stored email is parsed in a worker thread: JSON.parse or mailparser on tens of
 * megabytes holds a thread for a second or more (60 MB of quoted-printable: 1.4 s without a break).
 */
export const PARSE_LIMITS = Object.freeze({ inWorkerAbove: 1024 * 1024, budgetMs: 30_000 });

const WORKER = new URL('./parse-worker.ts', import.meta.url);

/**
 * A stored raw payload, Postmark JSON or RFC 822, as the one email shape. `receivedAt`, when
 * known, is its date when the Date header is missing or unreadable (the header is kept as sent).
 */
export async function parseStoredEmail(source: InboundSource, raw: Buffer, options: { receivedAt?: Date | null } = {}): Promise<NormalisedEmail> {
  const email = await parseAnywhere(source, raw);
  return email.date === null && options.receivedAt ? { ...email, date: options.receivedAt } : email;
}

async function parseAnywhere(source: InboundSource, raw: Buffer): Promise<NormalisedEmail> {
  if (raw.length <= PARSE_LIMITS.inWorkerAbove) return parseHere(source, raw);
  let result: ParseResult;
  try {
    result = await runInWorker<ParseResult>(WORKER, { source, raw } satisfies ParseTask, PARSE_LIMITS.budgetMs);
  } catch (err) {
    // Out of time or memory: it would be again on every attempt.
    if (err instanceof WorkerLimitError) throw new UnparseableEmailError(`parsing the ${raw.length}-byte email ${err.message}`);
    throw err;
  }
  if (!result.ok) throw new UnparseableEmailError(result.message);
  // Buffers cross threads as plain Uint8Arrays.
  const email = result.email;
  return { ...email, attachments: email.attachments.map((a) => ({ ...a, content: Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength) })) };
}

/** The same, on the calling thread. */
export async function parseHere(source: InboundSource, raw: Buffer): Promise<NormalisedEmail> {
  if (source === 'postmark') {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new UnparseableEmailError(`not JSON: ${(err as Error).message}`);
    }
    const parsed = postmarkInboundSchema.safeParse(json);
    if (!parsed.success) throw new UnparseableEmailError(`not a Postmark inbound payload: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
    return await normalisePostmark(parsed.data);
  }
  const check = looksLikeMime(raw);
  if (!check.ok) throw new UnparseableEmailError(`not an RFC 822 message: ${check.reason}`);
  try {
    return await normaliseMime(raw);
  } catch (err) {
    throw new UnparseableEmailError(`the MIME message cannot be parsed: ${(err as Error).message}`);
  }
}
