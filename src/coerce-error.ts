import { inspect } from 'node:util';

/** Anything thrown becomes an Error, so a thrown string or object never loses its story. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === 'string') return new Error(err);
  const message = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  if (typeof message === 'string') return new Error(message);
  return new Error(`Non-error thrown: ${inspect(err, { depth: 2, breakLength: Infinity })}`);
}
