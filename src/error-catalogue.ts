import { ConfigError } from './config.ts';
import { isDatabaseUnavailable } from './db/pool.ts';
import { AlreadyExistsError } from './domain/already-exists.ts';
import { InputError, type FieldError } from './domain/input-error.ts';
import { ProviderUnreachableError } from './import/connect.ts';
import { ConnectionExistsError } from './import/connections.ts';
import { RetryLaterError } from './import/errors.ts';

/** Plain's error types. */
export type ErrorType = 'VALIDATION' | 'FORBIDDEN' | 'INTERNAL';

/**
 * The catalogue: every error intake reports, with Plain's code and type, the API's HTTP status and
 * the `intake` command's exit code (sysexits.h where one fits: 69 unavailable, 78 configuration),
 * so the API and the CLI tell one story about the same failure.
 */
export const ERRORS = Object.freeze({
  input_validation: { status: 400, exit: 2, type: 'VALIDATION', message: 'The request is invalid.' },
  unauthenticated: { status: 401, exit: 2, type: 'FORBIDDEN', message: 'Authentication is required: send a valid API key as "Authorization: Bearer <key>".' },
  forbidden: { status: 403, exit: 2, type: 'FORBIDDEN', message: 'You are not allowed to do this.' },
  not_found: { status: 404, exit: 2, type: 'VALIDATION', message: 'Not found.' },
  method_not_allowed: { status: 405, exit: 2, type: 'VALIDATION', message: 'Method not allowed.' },
  request_timeout: { status: 408, exit: 2, type: 'VALIDATION', message: 'The request did not arrive in time.' },
  conflict: { status: 409, exit: 2, type: 'VALIDATION', message: 'The resource is not in a state that allows this.' },
  customer_already_exists_with_email: { status: 409, exit: 2, type: 'VALIDATION', message: 'A customer with this email already exists in the workspace.' },
  customer_already_exists_with_external_id: { status: 409, exit: 2, type: 'VALIDATION', message: 'A customer with this external id already exists in the workspace.' },
  thread_already_exists_with_external_id: { status: 409, exit: 2, type: 'VALIDATION', message: 'A thread with this external id already exists in the workspace.' },
  too_many_webhook_targets: { status: 400, exit: 2, type: 'VALIDATION', message: 'A workspace can have at most 25 webhook targets.' },
  payload_too_large: { status: 413, exit: 2, type: 'VALIDATION', message: 'The request body is too large.' },
  uri_too_long: { status: 414, exit: 2, type: 'VALIDATION', message: 'A part of the URL is too long.' },
  unsupported_media_type: { status: 415, exit: 2, type: 'VALIDATION', message: 'Unsupported content type.' },
  rate_limited: { status: 429, exit: 69, type: 'VALIDATION', message: 'Too many requests.' },
  headers_too_large: { status: 431, exit: 2, type: 'VALIDATION', message: 'The request headers are too large.' },
  internal: { status: 500, exit: 1, type: 'INTERNAL', message: 'Something went wrong on our side.' },
  invalid_configuration: { status: 500, exit: 78, type: 'INTERNAL', message: 'The service is misconfigured.' },
  service_unavailable: { status: 503, exit: 69, type: 'INTERNAL', message: 'The service is temporarily unavailable; retry later.' },
} as const satisfies Record<string, { status: number; exit: number; type: ErrorType; message: string }>);

export type ErrorCode = keyof typeof ERRORS;

/** An error the caller chose a code for. */
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

export type DescribedError = { code: ErrorCode; message: string; fields: FieldError[] };

/**
 * What the catalogue says of an error the service raises itself (bad input, a provider or the
 * database out of reach, a duplicate connection, bad configuration); null for anything else,
 * which each edge reports as `internal` its own way (with the stack, as it is a bug).
 */
export function describeError(err: unknown): DescribedError | null {
  if (err instanceof AppError) return { code: err.code, message: err.message, fields: err.fields };
  if (err instanceof InputError) return { code: 'input_validation', message: err.message, fields: err.fields };
  if (err instanceof AlreadyExistsError) return { code: err.code, message: err.message, fields: [{ field: err.field, message: err.message, type: 'VALIDATION' }] };
  if (err instanceof ProviderUnreachableError) return { code: 'service_unavailable', message: `${err.message}; nothing was saved, try again when it answers`, fields: [] };
  if (err instanceof RetryLaterError) return { code: 'service_unavailable', message: `The provider could not be reached: ${err.message}`, fields: [] };
  if (err instanceof ConnectionExistsError) return { code: 'conflict', message: `This workspace is already connected to that account (${err.existingId}); disconnect it first.`, fields: [] };
  if (err instanceof ConfigError) return { code: 'invalid_configuration', message: err.message, fields: [] };
  if (isDatabaseUnavailable(err)) return { code: 'service_unavailable', message: `The database could not be reached: ${(err as Error).message}`, fields: [] };
  return null;
}
