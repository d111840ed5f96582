import { z } from 'zod';
import type { ImportAdapter } from '../import/adapter.ts';

/**
 * The shape of an adapter's credentials as an example to paste over, read from its own zod
 * schema: `{"email": "…", "apiToken": "…"}`, or each alternative of a union.
 */
export function credentialsHint(adapter: ImportAdapter<any, any> | undefined): string[] {
  if (!adapter) return [];
  let schema: unknown;
  try {
    schema = z.toJSONSchema(adapter.credentialsSchema, { unrepresentable: 'any', io: 'input' });
  } catch {
    return [];
  }
  const shapes = (s: any): any[] => (Array.isArray(s?.anyOf) ? s.anyOf.flatMap(shapes) : Array.isArray(s?.oneOf) ? s.oneOf.flatMap(shapes) : [s]);
  return shapes(schema)
    .filter((s) => s && typeof s.properties === 'object')
    // What must be pasted: the required keys (tokens the engine fills in itself are optional).
    .map((s) => JSON.stringify(Object.fromEntries((Array.isArray(s.required) && s.required.length ? s.required : Object.keys(s.properties)).map((k: string) => [k, '…']))));
}
