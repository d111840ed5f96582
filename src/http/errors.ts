import type { FastifyError, FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../db/pool.ts';
import { InputError, type FieldError } from '../domain/input-error.ts';

/** Plain's error types. */
export type ErrorType = 'VALIDATION' | 'FORBIDDEN' | 'INTERNAL';

/** The catalogue: every error intake answers, with Plain's code, type and our HTTP status. */
export const ERRORS = Object.freeze({
  input_validation: { status: 400, type: 'VALIDATION', message: 'The request is invalid.' },
  unauthenticated: { status: 401, type: 'FORBIDDEN', message: 'Authentication is required: send a valid API key as "Authorization: Bearer <key>".' },
  forbidden: { status: 403, type: 'FORBIDDEN', message: 'You are not allowed to do this.' },
  not_found: { status: 404, type: 'VALIDATION', message: 'Not found.' },
  method_not_allowed: { status: 405, type: 'VALIDATION', message: 'Method not allowed.' },
  conflict: { status: 409, type: 'VALIDATION', message: 'The resource is not in a state that allows this.' },
  too_many_webhook_targets: { status: 400, type: 'VALIDATION', message: 'A workspace can have at most 25 webhook targets.' },
  payload_too_large: { status: 413, type: 'VALIDATION', message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, type: 'VALIDATION', message: 'Unsupported content type.' },
  rate_limited: { status: 429, type: 'VALIDATION', message: 'Too many requests.' },
  internal: { status: 500, type: 'INTERNAL', message: 'Something went wrong on our side.' },
  service_unavailable: { status: 503, type: 'INTERNAL', message: 'The service is temporarily unavailable; retry later.' },
} as const satisfies Record<string, { status: number; type: ErrorType; message: string }>);

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldError[];
  constructor(code: ErrorCode, message?: string, fields: FieldError[] = []) {
    super(message ?? ERRORS[code].message);
    this.name = 'AppError';
    this.code = code;
    this.fields = fields;
  }
  get status(): number {
    return ERRORS[this.code].status;
  }
}

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
  if (err instanceof AppError) return { code: err.code, message: err.message, fields: err.fields };
  if (err instanceof InputError) return { code: 'input_validation', message: err.message, fields: err.fields };
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
  }
  if (err instanceof SyntaxError && fe?.statusCode === 400) return { code: 'input_validation', message: `Malformed JSON: ${err.message}`, fields: [] };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const byStatus = (Object.keys(ERRORS) as ErrorCode[]).find((c) => ERRORS[c].status === fe.statusCode);
    return { code: byStatus ?? 'input_validation', message: fe.message ?? 'Invalid request.', fields: [] };
  }
  if (isDatabaseUnavailable(err)) return { code: 'service_unavailable', message: ERRORS.service_unavailable.message, fields: [] };
  return { code: 'internal', message: ERRORS.internal.message, fields: [] };
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
