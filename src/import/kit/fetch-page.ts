import type { z } from 'zod';
import { ProviderError } from '../errors.ts';
import type { ProviderClient, QueryParams } from '../http-client.ts';

/** One page request: a GET, or a POST the adapter declared a read (a search). */
export type PageRequest = { method?: 'GET' | 'POST' | undefined; path: string; params?: QueryParams | undefined; body?: unknown; signal?: AbortSignal | undefined };

/**
 * Fetches one page and checks its envelope (not its records: the record selector judges each
 * alone). A page of another shape is a `ProviderError` naming the method, path and status.
 */
export async function fetchPage<T>(client: ProviderClient, request: PageRequest, schema: z.ZodType<T>, what: string): Promise<{ page: T; status: number; path: string }> {
  const method = request.method ?? 'GET';
  const res =
    method === 'POST'
      ? await client.post(request.path, request.body, { params: request.params, signal: request.signal })
      : await client.get(request.path, { params: request.params, signal: request.signal });
  const path = new URL(res.url).pathname;
  const parsed = schema.safeParse(res.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ProviderError({ method, path, status: res.status, detail: `unexpected ${what}${where}: ${issue?.message ?? 'bad shape'}` });
  }
  return { page: parsed.data, status: res.status, path };
}

/** A page that breaks its paginator's rules (no next cursor before the end): a ProviderError naming it. */
export function pagingError(method: string, path: string, status: number, detail: string): ProviderError {
  return new ProviderError({ method, path, status, detail });
}
