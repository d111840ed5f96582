import { createProviderClient } from '../../src/import/http-client.ts';
import { parseIetfRateLimitHeaders, type ResponseHeaders } from '../../src/import/rate-limiter.ts';
import type { ImportAdapter } from '../../src/import/adapter.ts';
import { AuthError, ProviderError } from '../../src/import/errors.ts';
import { credentialsSchema, meSchema, settingsSchema, type ZendeskCredentials, type ZendeskSettings } from './schemas.ts';
import { organizationsStream, ticketsStream, usersStream } from './streams.ts';

/** Zendesk's budget: the IETF `ratelimit-*` headers, else `x-rate-limit` / `x-rate-limit-remaining`. */
function zendeskRateLimit(headers: ResponseHeaders) {
  const ietf = parseIetfRateLimitHeaders(headers);
  if (ietf.remaining !== undefined) return ietf;
  const n = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : Number(v));
  return { limit: n(headers['x-rate-limit']), remaining: n(headers['x-rate-limit-remaining']), resetMs: undefined };
}

export const zendeskAdapter: ImportAdapter<ZendeskCredentials, ZendeskSettings> = {
  provider: 'zendesk',
  credentialsSchema,
  settingsSchema,
  account: (s) => s.subdomain,
  describeCredentials: (c): Record<string, string> => ('email' in c ? { type: 'api_token', email: c.email } : { type: 'oauth' }),
  countNames: { person: 'users', tenant: 'organizations', thread: 'tickets', entry: 'comments', attachment: 'attachments', label: 'tags' },
  open({ credentials, settings, userAgent, http }) {
    const client = createProviderClient({
      baseUrl: settings.baseUrl ?? `https://${settings.subdomain}.zendesk.com`,
      // API token auth is `{email}/token:{token}` over Basic; OAuth is a bearer token.
      auth: 'email' in credentials ? { type: 'basic', username: `${credentials.email}/token`, password: credentials.apiToken } : { type: 'bearer', token: credentials.oauthToken },
      timeoutMs: http?.timeoutMs ?? 30_000,
      userAgent,
      rateLimit: { parseHeaders: zendeskRateLimit },
      maxRetries: http?.maxRetries ?? 5,
      maxInlineWaitMs: http?.maxInlineWaitMs ?? 15_000,
      backoffBaseMs: http?.backoffBaseMs,
      allowPrivateAddresses: http?.allowPrivateAddresses,
    });
    const options = { client, pageSize: settings.pageSize, concurrency: settings.concurrency ?? 8 };
    return {
      streams: [organizationsStream(options), usersStream(options), ticketsStream(options)],
      async verify(signal) {
        const res = await client.get('/api/v2/users/me.json', { signal });
        const me = meSchema.safeParse(res.data);
        if (!me.success) throw new ProviderError({ method: 'GET', path: '/api/v2/users/me.json', status: res.status, detail: 'unexpected answer to users/me' });
        // Zendesk answers an anonymous user (id null / role end-user) to bad credentials on some accounts.
        if (me.data.user.role === 'end-user') {
          const detail = 'these credentials belong to an end user, not an agent or admin';
          throw new AuthError({ method: 'GET', path: '/api/v2/users/me.json', status: res.status, detail, providerMessage: detail });
        }
        return { accountName: settings.subdomain };
      },
      close: () => client.close(),
    };
  },
};
