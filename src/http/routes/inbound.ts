import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { PgBoss } from 'pg-boss';
import type { Pool } from '../../db/pool.ts';
import { messageIds, parseAddressList } from '../../inbound/addresses.ts';
import { dedupeKeyOffThread } from '../../inbound/ledger.ts';
import { readPostmarkReceipt } from '../postmark-receipt.ts';
import { headerValues, looksLikeMime, readHeaderBlock } from '../../inbound/mime-check.ts';
import { postmarkInboundSchema } from '../../inbound/postmark-payload.ts';
import { receiptBatcher } from '../../inbound/receipt-batcher.ts';
import { localWorkers, receiveInbound, type WakeInbound } from '../../inbound/receive.ts';
import type { Recipients } from '../../inbound/route.ts';
import { basicAuthMatches } from '../basic-auth.ts';
import { registerBodySlots } from '../body-slots.ts';
import { AppError } from '../errors.ts';
import { mediaType, requireMediaType } from '../media-type.ts';
import { routeSchema, SECURITY } from '../openapi.ts';

/** Postmark allows 35 MB of attachments before base64; 64 MiB holds that with room. */
export const INBOUND_BODY_LIMIT = 64 * 1024 * 1024;

// Each endpoint takes one type: a raw message posted as JSON (or the reverse) is a client bug to report, not to guess at.
const MEDIA_TYPES: Readonly<Record<string, { type: string; hint: string }>> = Object.freeze({
  '/inbound/postmark': { type: 'application/json', hint: 'raw RFC 822 messages go to /inbound/mime as message/rfc822.' },
  '/inbound/mime': { type: 'message/rfc822', hint: "Postmark's inbound JSON goes to /inbound/postmark as application/json." },
});

/** The answer to the provider: the payload is stored (or was already) and will be processed. */
const receiptResponse = z.object({
  inboundEmailId: z.string(),
  status: z.enum(['received', 'duplicate']).meta({ description: '`duplicate`: the same delivery was received before (the provider retried); nothing new was stored.' }),
});
const inboundDoc = { tags: ['Inbound mail'], security: SECURITY.inboundBasic, response: { 200: receiptResponse } };

export function inboundRoutes(app: FastifyInstance, deps: { pool: Pool; boss: PgBoss; basicAuth: string; inboundDomain: string; wakeInbound?: WakeInbound | undefined }): void {
  const local = deps.wakeInbound ? localWorkers(deps.wakeInbound) : undefined;
  const batcher = receiptBatcher(deps.pool);
  // Raw bytes, stored exactly as received; parsed by us, not by Fastify.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'message/rfc822'], { parseAs: 'buffer', bodyLimit: INBOUND_BODY_LIMIT }, (_req, body, done) => done(null, body));

  // Before the body is read: a wrong password or a wrong type costs us nothing.
  app.addHook('onRequest', async (request, reply) => {
    // 401, never 403: Postmark stops retrying on 403.
    if (!basicAuthMatches(request.headers.authorization, deps.basicAuth)) {
      reply.header('www-authenticate', 'Basic realm="intake inbound"');
      throw new AppError('unauthenticated', 'The inbound webhook needs the INBOUND_BASIC_AUTH credentials (HTTP Basic).');
    }
    const expected = MEDIA_TYPES[request.routeOptions.url ?? ''];
    if (expected) requireMediaType(request.headers['content-type'], expected.type, expected.hint);
  });
  registerBodySlots(app);

  const postmarkSchema = routeSchema({
    ...inboundDoc,
    summary: "Postmark's inbound webhook: one email as Postmark's JSON (stored as received, processed in the background)",
    body: postmarkInboundSchema,
  });
  app.post('/inbound/postmark', { bodyLimit: INBOUND_BODY_LIMIT, schema: postmarkSchema }, async (request) => {
    const raw = requireBody(request.body, 'application/json');
    const receipt = await readPostmarkReceipt(raw, mediaType(request.headers['content-type'])?.charset ?? null);
    return receiveInbound({ pool: deps.pool, inboundDomain: deps.inboundDomain, local, batcher }, {
      source: 'postmark',
      raw: receipt.utf8 ? Buffer.from(receipt.utf8.buffer, receipt.utf8.byteOffset, receipt.utf8.byteLength) : raw,
      dedupeKey: receipt.dedupeKey,
      messageId: receipt.messageId,
      recipients: receipt.recipients,
    });
  });

  const mimeSchema = routeSchema({
    ...inboundDoc,
    summary: 'One raw RFC 822 message (stored as received, processed in the background)',
    consumes: ['message/rfc822'],
    body: z.string().meta({ description: 'The whole message, headers and body, as bytes.' }),
  });
  app.post('/inbound/mime', { bodyLimit: INBOUND_BODY_LIMIT, schema: mimeSchema }, async (request) => {
    const raw = requireBody(request.body, 'message/rfc822');
    const check = looksLikeMime(raw);
    if (!check.ok) throw new AppError('input_validation', `Not an RFC 822 message: ${check.reason}.`, [{ field: '(body)', message: check.reason, type: 'VALIDATION' }]);
    const { lines } = readHeaderBlock(raw);
    return receiveInbound({ pool: deps.pool, inboundDomain: deps.inboundDomain, local, batcher }, {
      source: 'mime',
      raw,
      dedupeKey: await dedupeKeyOffThread('mime', raw),
      messageId: messageIds(headerValues(lines, 'Message-ID')[0])[0] ?? null,
      recipients: mimeRecipients(lines),
    });
  });
}

function requireBody(body: unknown, type: string): Buffer {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new AppError('input_validation', `The request body is empty; send the message as ${type}.`, [{ field: '(body)', message: 'is required', type: 'REQUIRED' }]);
  }
  return body;
}

/**
 * Whom a raw message was sent to, from the header lines the receipt check has read anyway. The
 * newest Received line's `for <address>` is the envelope recipient our provider's server took it
 * for (what Postmark calls OriginalRecipient); older ones were written by anyone.
 */
function mimeRecipients(lines: readonly string[]): Recipients {
  const list = (name: string) => headerValues(lines, name).flatMap((v) => parseAddressList(v));
  const headers = lines
    .filter((l) => /^[!-9;-~]+:/.test(l))
    .map((l) => ({ name: l.slice(0, l.indexOf(':')).trim(), value: l.slice(l.indexOf(':') + 1).trim() }));
  const envelope = /\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?/i.exec(headerValues(lines, 'Received')[0] ?? '')?.[1] ?? null;
  return { originalRecipient: envelope, to: list('To'), cc: list('Cc'), bcc: list('Bcc'), headers };
}
