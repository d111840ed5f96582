import type { AuthGrant, Authenticator, TokenEndpoint } from './adapter.ts';
import { ProviderError } from './errors.ts';

/** Refresh this long before a grant expires: clocks differ and a request takes time. */
export const REFRESH_BEFORE_EXPIRY_MS = 60_000;

export type AuthSession = {
  /** The grant to send now, refreshed first when it expires within a minute (or there is none yet). */
  current(signal: AbortSignal | undefined): Promise<AuthGrant>;
  /** A new grant whatever the current one says (after a 401); concurrent callers share one refresh. */
  refresh(signal: AbortSignal | undefined): Promise<AuthGrant>;
  readonly canRefresh: boolean;
};

/**
 * One connection's authentication lifecycle. Rotated credentials a refresh returns are handed to
 * `onCredentials` (the engine seals and saves them) before the grant is used.
 */
export function createAuthSession(auth: Authenticator, tokens: TokenEndpoint, onCredentials?: (credentials: unknown) => Promise<void>): AuthSession {
  let grant = auth.initial;
  let pending: Promise<AuthGrant> | null = null;
  const expiring = (g: AuthGrant) => g.expiresAt != null && g.expiresAt.getTime() - Date.now() < REFRESH_BEFORE_EXPIRY_MS;

  function refresh(signal: AbortSignal | undefined): Promise<AuthGrant> {
    const refresher = auth.refresh;
    if (!refresher) {
      return Promise.reject(new ProviderError({ method: 'POST', path: '(token)', status: null, detail: 'these credentials cannot be refreshed' }));
    }
    pending ??= (async () => {
      const next = await refresher(tokens, signal);
      if (next.credentials !== undefined) await onCredentials?.(next.credentials);
      grant = next;
      return next;
    })().finally(() => {
      pending = null;
    });
    return pending;
  }

  return {
    canRefresh: auth.refresh !== undefined,
    refresh,
    async current(signal) {
      if (grant && !(auth.refresh && expiring(grant))) return grant;
      if (!auth.refresh) {
        // A grant without a way to refresh is used until the provider refuses it.
        if (grant) return grant;
        throw new ProviderError({ method: 'GET', path: '(auth)', status: null, detail: 'the adapter gave no credentials to authenticate with' });
      }
      return refresh(signal);
    },
  };
}

/** Static headers that never expire (API tokens, private-app tokens). */
export function staticAuth(headers: Readonly<Record<string, string>>): Authenticator {
  return { initial: { headers, expiresAt: null } };
}

export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
