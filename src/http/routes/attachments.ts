import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/pool.ts';
import { readAttachmentFile } from '../../domain/attachments.ts';
import { requireWorkspace } from '../auth.ts';
import { AppError, parseInput } from '../errors.ts';
import { routeSchema } from '../openapi.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });

/** A media type safe to put in a header as sent (type/subtype and simple parameters); anything else is served as bytes. */
const SAFE_MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;\s*[a-z0-9_.-]+=("[\x20-\x21\x23-\x7e]*"|[a-z0-9_.+-]+))*$/i;

/**
 * `attachment; filename="..."; filename*=UTF-8''...` (RFC 6266): the quoted name is an ASCII
 * fallback with quotes, backslashes and control characters replaced; the encoded one is exact.
 */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_') || 'attachment';
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * `GET /v1/attachments/:id/content`: an accepted attachment's bytes with its content type. The
 * bytes come from customers and providers, so a browser must never render them on our origin:
 * always `attachment` disposition, `nosniff`, and a sandboxing CSP (an HTML or SVG file is
 * downloaded, not run). A refused attachment has no stored bytes (409, with its code).
 */
export function attachmentRoutes(app: FastifyInstance, deps: { db: Queryable }): void {
  const schema = routeSchema({
    tags: ['Threads'],
    summary: "An accepted attachment's bytes, always as a download (409 for a refused one, with its code)",
    params: idParams,
    response: {
      200: {
        description: "The file as received, with its content type when it is a safe one (else application/octet-stream) and `Content-Disposition: attachment`.",
        content: { '*/*': { schema: z.string().meta({ format: 'binary' }) } },
      },
    },
  });
  app.get('/v1/attachments/:id/content', { schema }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const file = await readAttachmentFile({ db: deps.db, workspaceId: workspace.id }, id);
    if (!file) throw new AppError('not_found', `Attachment ${id} not found.`);
    if (file.status !== 'accepted' || !file.content) {
      throw new AppError('conflict', `Attachment ${id} was refused (${file.code ?? 'not stored'}); its bytes are kept only in the raw email or not at all.`);
    }
    return reply
      .header('content-type', SAFE_MEDIA_TYPE.test(file.contentType) ? file.contentType : 'application/octet-stream')
      .header('content-disposition', contentDisposition(file.fileName))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cache-control', 'private, no-store')
      .send(file.content);
  });
}
