/** Plain's codes for a write that would give a second row a value only one may hold. */
export const ALREADY_EXISTS_CODES = Object.freeze({
  customerEmail: 'customer_already_exists_with_email',
  customerExternalId: 'customer_already_exists_with_external_id',
  threadExternalId: 'thread_already_exists_with_external_id',
} as const);
export type AlreadyExistsCode = (typeof ALREADY_EXISTS_CODES)[keyof typeof ALREADY_EXISTS_CODES];

/** The domain refuses a duplicate; the HTTP layer answers it with the code as a 409. */
export class AlreadyExistsError extends Error {
  readonly code: AlreadyExistsCode;
  readonly field: string;
  readonly existingId: string | null;
  constructor(code: AlreadyExistsCode, field: string, message: string, existingId: string | null = null) {
    super(message);
    this.name = 'AlreadyExistsError';
    this.code = code;
    this.field = field;
    this.existingId = existingId;
  }
}

/** The unique index a Postgres unique violation (23505) names, else null. */
export function violatedConstraint(err: unknown): string | null {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && typeof e.constraint === 'string' ? e.constraint : null;
}
