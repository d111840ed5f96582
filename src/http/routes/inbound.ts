import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { Pool } from '../../db/pool.ts';
import { messageIds } from '../../inbound/addresses.ts';
import { dedupeKey } from '../../inbound/ledger.ts';
import { looksLikeMime } from '../../inbound/mime-check.ts';
import { postmarkInboundSchema } from '../../inbound/postmark-payload.ts';
import { receiveInbound } from '../../inbound/receive.ts';
import { basicAuthMatches } from '../basic-auth.ts';
import { AppError, fieldErrors } from '../errors.ts';
import { Semaphore } from '../semaphore.ts';

/** Postmark allows 35 MB of attachments before base64; 64 MiB holds that with room. */
export const INBOUND_BODY_LIMIT = 64 * 1024 * 1024;
// Bodies above this wait for one of a few slots before they are read, bounding memory.
const LARGE_BODY = 1024 * 1024;
const LARGE_BODY_SLOTS = 4;

declare module 'fastify' {
  interface FastifyRequest {
    releaseBodySlot?: () => void;
  }
}

export function inboundRoutes(app: FastifyInstance, deps: { pool: Pool; boss: PgBoss; basicAuth: string }): void {
  const slots = new Semaphore(LARGE_BODY_SLOTS);

  // Raw bytes, stored exactly as received; parsed by us, not by Fastify.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'message/rfc822'], { parseAs: 'buffer', bodyLimit: INBOUND_BODY_LIMIT }, (_req, body, done) => done(null, body));

  // Before the body is read: a wrong password costs us nothing. 401, never 403: Postmark stops retrying on 403.
  app.addHook('onRequest', async (request, reply) => {
    if (!basicAuthMatches(request.headers.authorization, deps.basicAuth)) {
      reply.header('www-authenticate', 'Basic realm="intake inbound"');
      throw new AppError('unauthenticated', 'The inbound webhook needs the INBOUND_BASIC_AUTH credentials (HTTP Basic).');
    }
    const length = Number(request.headers['content-length'] ?? Number.NaN);
    if (!(length <= LARGE_BODY)) request.releaseBodySlot = await slots.acquire();
  });
  const release = async (request: FastifyRequest) => request.releaseBodySlot?.();
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);

  app.post('/inbound/postmark', { bodyLimit: INBOUND_BODY_LIMIT }, async (request) => {
    const raw = requireBody(request.body, 'application/json');
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new AppError('input_validation', `Malformed JSON: ${(err as Error).message}`);
    }
    const parsed = postmarkInboundSchema.safeParse(json);
    if (!parsed.success) throw new AppError('input_validation', 'The payload is not a Postmark inbound message.', fieldErrors(parsed.error));
    const p = parsed.data;
    const messageIdHeader = p.Headers?.find((h) => h.Name.toLowerCase() === 'message-id')?.Value;
    return receiveInbound(deps, { source: 'postmark', raw, dedupeKey: dedupeKey('postmark', raw, p.MessageID), messageId: messageIds(messageIdHeader)[0] ?? null });
  });

  app.post('/inbound/mime', { bodyLimit: INBOUND_BODY_LIMIT }, async (request) => {
    const raw = requireBody(request.body, 'message/rfc822');
    const check = looksLikeMime(raw);
    if (!check.ok) throw new AppError('input_validation', `Not an RFC 822 message: ${check.reason}.`, [{ field: '(body)', message: check.reason, type: 'VALIDATION' }]);
    const head = raw.subarray(0, 256 * 1024).toString('latin1');
    const messageId = /^message-id:\s*(.+)$/im.exec(head.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' '))?.[1];
    return receiveInbound(deps, { source: 'mime', raw, dedupeKey: dedupeKey('mime', raw, null), messageId: messageIds(messageId)[0] ?? null });
  });
}

function requireBody(body: unknown, type: string): Buffer {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new AppError('input_validation', `The request body is empty; send the message as ${type}.`, [{ field: '(body)', message: 'is required', type: 'REQUIRED' }]);
  }
  return body;
}
