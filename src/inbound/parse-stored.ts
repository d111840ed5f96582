import { z } from 'zod';
import type { NormalisedEmail } from './email.ts';
import type { InboundSource } from './ledger.ts';
import { looksLikeMime } from './mime-check.ts';
import { normaliseMime } from './normalise-mime.ts';
import { normalisePostmark } from './normalise-postmark.ts';
import { postmarkInboundSchema } from './postmark-payload.ts';

export class UnparseableEmailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnparseableEmailError';
  }
}

/** A stored raw payload, Postmark JSON or RFC 822, as the one email shape. */
export async function parseStoredEmail(source: InboundSource, raw: Buffer): Promise<NormalisedEmail> {
  if (source === 'postmark') {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new UnparseableEmailError(`not JSON: ${(err as Error).message}`);
    }
    const parsed = postmarkInboundSchema.safeParse(json);
    if (!parsed.success) throw new UnparseableEmailError(`not a Postmark inbound payload: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
    return normalisePostmark(parsed.data);
  }
  const check = looksLikeMime(raw);
  if (!check.ok) throw new UnparseableEmailError(`not an RFC 822 message: ${check.reason}`);
  try {
    return await normaliseMime(raw);
  } catch (err) {
    throw new UnparseableEmailError(`the MIME message cannot be parsed: ${(err as Error).message}`);
  }
}
