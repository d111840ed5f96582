import type { AdapterSession, HttpTuning, ImportAdapter } from './adapter.ts';
import { createProviderClient, type ProviderClient } from './http-client.ts';

/** The engine's defaults for provider calls; an adapter's requester and then the engine's tuning override them. */
const DEFAULTS = Object.freeze({ timeoutMs: 30_000, maxRetries: 5, maxInlineWaitMs: 15_000 });

export type OpenedSession = { client: ProviderClient; session: AdapterSession; close(): void };

/**
 * One adapter session on the engine's HTTP client: the adapter describes the requester, the
 * engine builds it (guards, budget, retries, the auth lifecycle) and keeps rotated credentials.
 */
export function openSession<C, S>(
  adapter: ImportAdapter<C, S>,
  input: { credentials: C; settings: S; userAgent: string; http?: HttpTuning | undefined; onCredentials?: ((credentials: C) => Promise<void>) | undefined },
): OpenedSession {
  const requester = adapter.requester({ credentials: input.credentials, settings: input.settings });
  const { onCredentials } = input;
  const client = createProviderClient({
    baseUrl: requester.baseUrl,
    auth: requester.auth,
    // What a refresh hands back is checked like stored credentials before it is kept.
    onCredentials: onCredentials ? (raw) => onCredentials(adapter.credentialsSchema.parse(raw)) : undefined,
    readOnlyPosts: requester.readOnlyPosts,
    classifyError: requester.classifyError,
    rateLimit: requester.rateLimit,
    userAgent: input.userAgent,
    timeoutMs: input.http?.timeoutMs ?? requester.timeoutMs ?? DEFAULTS.timeoutMs,
    maxRetries: input.http?.maxRetries ?? DEFAULTS.maxRetries,
    maxInlineWaitMs: input.http?.maxInlineWaitMs ?? requester.maxInlineWaitMs ?? DEFAULTS.maxInlineWaitMs,
    backoffBaseMs: input.http?.backoffBaseMs,
    allowPrivateAddresses: input.http?.allowPrivateAddresses,
  });
  const session = adapter.open({ client, settings: input.settings });
  return { client, session, close: () => client.close() };
}
