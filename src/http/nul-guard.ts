import type { FastifyInstance } from 'fastify';
import type { FieldError } from '../domain/input-error.ts';
import { AppError } from './errors.ts';

/** The path of the first string (or key) holding a NUL, iteratively: a deep JSON body must not blow the stack. */
export function findNul(value: unknown, prefix: string[]): string[] | null {
  const stack: Array<[unknown, string[]]> = [[value, prefix]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], [...path, String(i)]]);
    } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const [key, child] of Object.entries(v)) {
        if (key.includes('\u0000')) return [...path, key];
        stack.push([child, [...path, key]]);
      }
    }
  }
  return null;
}

/**
 * PostgreSQL text cannot hold NUL (22021), so a NUL in a path parameter, a query parameter or a
 * JSON string is refused for every route at once, naming the field, before any handler runs.
 * Raw inbound bodies are Buffers and pass: NULs in an email are the pipeline's business.
 */
export function registerNulGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const path = findNul(request.params, ['params']) ?? findNul(request.query, ['query']) ?? findNul(request.body, []);
    if (!path) return;
    const field: FieldError = { field: path.join('.').replaceAll('\u0000', '\\u0000') || '(body)', message: 'must not contain a NUL character (\\u0000)', type: 'VALIDATION' };
    throw new AppError('input_validation', `Invalid request: ${field.field} contains a NUL character.`, [field]);
  });
}
