import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { FieldError } from '../domain/input-error.ts';
import { AppError, describeError, ERRORS, type ErrorCode, type ErrorType } from '../error-catalogue.ts';

// The catalogue is shared with the CLI; this module adds what is HTTP's own.
export { AppError, ERRORS, type ErrorCode, type ErrorType } from '../error-catalogue.ts';

export type ErrorBody = { error: { message: string; type: ErrorType; code: ErrorCode; fields: FieldError[] } };

export function errorBody(code: ErrorCode, message?: string, fields: FieldError[] = []): ErrorBody {
  return { error: { message: message ?? ERRORS[code].message, type: ERRORS[code].type, code, fields } };
}

/** zod issues as Plain's field errors: a missing value is REQUIRED, anything else VALIDATION. */
export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: issue.message,
    type: issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'REQUIRED' : 'VALIDATION',
  }));
}

/** Parses untrusted input with a schema or throws `input_validation` naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new AppError('input_validation', `Invalid request ${where}.`, fieldErrors(result.error, where === 'body' ? '' : where));
  return result.data;
}

/** Maps every thrown thing to one status and Plain's shape; nothing escapes as a bare 500 page. */
export function classifyError(err: unknown): { code: ErrorCode; message: string; fields: FieldError[] } {
  const known = describeError(err);
  if (known) {
    // The database's own words stay in the log: the API answers the catalogue's message.
    return known.code === 'service_unavailable' && !(err instanceof AppError) ? { ...known, message: ERRORS.service_unavailable.message } : known;
  }
  const fe = err as Partial<FastifyError> | null;
  switch (fe?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_VALIDATION':
      return { code: 'input_validation', message: fe.message ?? 'Invalid request.', fields: [] };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'payload_too_large', message: ERRORS.payload_too_large.message, fields: [] };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'unsupported_media_type', message: fe.message ?? ERRORS.unsupported_media_type.message, fields: [] };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'input_validation', message: 'The body is not as long as its Content-Length header says.', fields: [{ field: '(body)', message: 'length differs from Content-Length', type: 'VALIDATION' }] };
  }
  if (err instanceof SyntaxError && fe?.statusCode === 400) return { code: 'input_validation', message: `Malformed JSON: ${err.message}`, fields: [] };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const byStatus = (Object.keys(ERRORS) as ErrorCode[]).find((c) => ERRORS[c].status === fe.statusCode);
    return { code: byStatus ?? 'input_validation', message: fe.message ?? 'Invalid request.', fields: [] };
  }
  return { code: 'internal', message: ERRORS.internal.message, fields: [] };
}

/**
 * Fastify's router answers a malformed URL or an over-long path parameter before any route runs;
 * this gives those answers Plain's shape too (Fastify's `frameworkErrors` option).
 */
export function frameworkErrorHandler(onError: (code: ErrorCode) => void) {
  return (err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    const code: ErrorCode = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'uri_too_long' : err.code === 'FST_ERR_BAD_URL' ? 'input_validation' : 'internal';
    const message =
      code === 'uri_too_long' ? 'A path parameter is longer than any id (100 characters).' : code === 'input_validation' ? 'The URL is malformed (bad percent-encoding).' : undefined;
    onError(code);
    return reply.status(ERRORS[code].status).send(errorBody(code, message, code === 'internal' ? [] : [{ field: 'url', message: message!, type: 'VALIDATION' }]));
  };
}

/**
 * Node's HTTP parser refuses some requests before Fastify sees them (bad framing, headers over
 * 16 KiB, `requestTimeout`): answer those in Plain's shape on the socket, then close it.
 */
export function clientErrorHandler(onError: (code: ErrorCode) => void) {
  return (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const code: ErrorCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'input_validation';
    const message =
      code === 'request_timeout'
        ? 'The request was not received in full within the time allowed.'
        : code === 'headers_too_large'
          ? 'The request headers are larger than 16 KiB.'
          : `The HTTP request is malformed${err.code ? ` (${err.code})` : ''}.`;
    onError(code);
    // As Node does itself: never write into a response already under way on this socket.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify(errorBody(code, message));
      const status = ERRORS[code].status;
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}

export function registerErrorHandling(app: FastifyInstance, onError: (code: ErrorCode) => void): void {
  app.setErrorHandler((err, request, reply) => {
    const { code, message, fields } = classifyError(err);
    onError(code);
    if (ERRORS[code].status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code, message }, 'request refused');
    return reply.status(ERRORS[code].status).send(errorBody(code, message, fields));
  });
  app.setNotFoundHandler((request, reply) => {
    onError('not_found');
    return reply.status(404).send(errorBody('not_found', `No route for ${request.method} ${request.url.split('?')[0]}.`));
  });
}
