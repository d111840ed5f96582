import { messageIds, parseAddressList } from '../inbound/addresses.ts';
import { dedupeKey, LARGE_EMAIL_BYTES } from '../inbound/ledger.ts';
import { postmarkDeliveryId, postmarkInboundSchema, type PostmarkInbound } from '../inbound/postmark-payload.ts';
import type { Recipients } from '../inbound/route.ts';
import { runInWorker } from '../inbound/worker-pool.ts';
import { AppError, fieldErrors, type ErrorCode } from './errors.ts';
import type { FieldError } from '../domain/input-error.ts';
import { decodeText } from './media-type.ts';

/** What receipt needs of a Postmark payload: small, so it crosses threads cheaply. `utf8`: the bytes to store when they are not the request's own. */
export type PostmarkReceipt = { dedupeKey: string; messageId: string | null; recipients: Recipients; utf8: Uint8Array | null };
type Read = { ok: true; receipt: PostmarkReceipt } | { ok: false; code: ErrorCode; message: string; fields: FieldError[] };

/** Decoding and parsing 60 MB of JSON took 0.5 s of the HTTP thread (1.5 s on a loaded machine): bodies over this go to a worker thread. */
const WORKER_ABOVE_BYTES = LARGE_EMAIL_BYTES;
const WORKER = new URL('./postmark-receipt-worker.ts', import.meta.url);
const WORKER_BUDGET_MS = 30_000;

/** Reads a Postmark payload for receipt (in a worker thread when large); bad input is an AppError. */
export async function readPostmarkReceipt(raw: Buffer, charset: string | null): Promise<PostmarkReceipt> {
  const read = raw.length > WORKER_ABOVE_BYTES ? await runInWorker<Read>(WORKER, { raw, charset }, WORKER_BUDGET_MS) : readPostmark(raw, charset);
  if (!read.ok) throw new AppError(read.code, read.message, read.fields);
  return read.receipt;
}

/** The reading itself, on whichever thread: a refusal is a value, since error classes do not cross threads. */
export function readPostmark(raw: Buffer, charset: string | null): Read {
  try {
    // JSON in the charset it declares; stored as UTF-8, the way the job reads it back.
    const { text, utf8 } = decodeText(raw, charset);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new AppError('input_validation', `Malformed JSON: ${(err as Error).message}`);
    }
    const parsed = postmarkInboundSchema.safeParse(json);
    if (!parsed.success) throw new AppError('input_validation', 'The payload is not a Postmark inbound message.', fieldErrors(parsed.error));
    const p = parsed.data;
    const messageIdHeader = p.Headers?.find((h) => h.Name.toLowerCase() === 'message-id')?.Value;
    return {
      ok: true,
      receipt: {
        // The webhook Check sample's all-zero id is the same on every Check: its bytes key it instead.
        dedupeKey: dedupeKey('postmark', utf8, postmarkDeliveryId(p.MessageID)),
        messageId: messageIds(messageIdHeader)[0] ?? null,
        recipients: postmarkRecipients(p),
        utf8: utf8 === raw ? null : utf8,
      },
    };
  } catch (err) {
    if (err instanceof AppError) return { ok: false, code: err.code, message: err.message, fields: err.fields };
    throw err;
  }
}

/** Whom a Postmark payload was sent to, read without decoding its bodies or attachments. */
function postmarkRecipients(p: PostmarkInbound): Recipients {
  const list = (full: Array<{ Email: string }> | null | undefined, plain: string | null | undefined) => [
    ...(full ?? []).flatMap((f) => parseAddressList(f.Email)),
    ...parseAddressList(plain),
  ];
  return {
    originalRecipient: p.OriginalRecipient ?? null,
    to: list(p.ToFull, p.To),
    cc: list(p.CcFull, p.Cc),
    bcc: list(p.BccFull, p.Bcc),
    headers: (p.Headers ?? []).map((h) => ({ name: h.Name, value: h.Value })),
  };
}
