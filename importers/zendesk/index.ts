import type { ImportAdapter } from '../../src/import/adapter.ts';
import { AuthError } from '../../src/import/errors.ts';
import { basicAuthHeader, fetchPage, staticAuth } from '../../src/import/kit/index.ts';
import { parseIetfRateLimitHeaders, type ResponseHeaders } from '../../src/import/rate-limiter.ts';
import { credentialsSchema, meSchema, settingsSchema, type ZendeskCredentials, type ZendeskSettings } from './schemas.ts';
import { organizationsStream, ticketsStream, usersStream } from './streams.ts';

/** Zendesk's budget: the IETF `ratelimit-*` headers, else `x-rate-limit` / `x-rate-limit-remaining`. */
function zendeskRateLimit(headers: ResponseHeaders) {
  const ietf = parseIetfRateLimitHeaders(headers);
  if (ietf.remaining !== undefined) return ietf;
  const n = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : Number(v));
  return { limit: n(headers['x-rate-limit']), remaining: n(headers['x-rate-limit-remaining']), resetMs: undefined };
}

const ME = '/api/v2/users/me.json';

export const zendeskAdapter: ImportAdapter<ZendeskCredentials, ZendeskSettings> = {
  provider: 'zendesk',
  displayName: 'Zendesk',
  credentialsSchema,
  settingsSchema,
  describeCredentials: (c): Record<string, string> => ('email' in c ? { type: 'api_token', email: c.email } : { type: 'oauth' }),
  countNames: { person: 'users', tenant: 'organizations', thread: 'tickets', entry: 'comments', attachment: 'attachments', label: 'tags' },

  requester: ({ credentials, settings }) => ({
    baseUrl: settings.baseUrl ?? `https://${settings.subdomain}.zendesk.com`,
    // API token auth is `{email}/token:{token}` over Basic; OAuth is a bearer token. Neither expires.
    auth: staticAuth({ Authorization: 'email' in credentials ? basicAuthHeader(`${credentials.email}/token`, credentials.apiToken) : `Bearer ${credentials.oauthToken}` }),
    rateLimit: { parseHeaders: zendeskRateLimit },
  }),

  open({ client, settings }) {
    const options = { client, pageSize: settings.pageSize, concurrency: settings.concurrency ?? 8 };
    return {
      streams: [organizationsStream(options), usersStream(options), ticketsStream(options)],
      async verify(signal) {
        const { page: me, status } = await fetchPage(client, { path: ME, signal }, meSchema, 'answer to users/me');
        // Zendesk answers an anonymous user (id null / role end-user) to bad credentials on some accounts.
        if (me.user.role === 'end-user') {
          const detail = 'these credentials belong to an end user, not an agent or admin';
          throw new AuthError({ method: 'GET', path: ME, status, detail, providerMessage: detail });
        }
        // The subdomain is the account: it names the ledger of every connection made before this one.
        return { accountId: settings.subdomain, accountName: settings.subdomain };
      },
    };
  },

  cli: {
    options: [
      { flags: '--subdomain <subdomain>', description: 'the Zendesk subdomain (acme for acme.zendesk.com)', required: true },
      { flags: '--email <email>', description: 'the agent or admin the API token belongs to (API token auth)' },
      { flags: '--page-size <n>', description: 'records per export page (1-1000)' },
    ],
    secrets: [
      { env: 'ZENDESK_API_TOKEN', description: 'an API token (with --email)' },
      { env: 'ZENDESK_OAUTH_TOKEN', description: 'an OAuth access token (instead of --email and an API token)' },
    ],
    build(options, secrets) {
      const settings = { subdomain: options.subdomain, ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}), ...(options.pageSize ? { pageSize: Number(options.pageSize) } : {}) } as ZendeskSettings;
      if (secrets.ZENDESK_OAUTH_TOKEN && !options.email) return { credentials: { oauthToken: secrets.ZENDESK_OAUTH_TOKEN }, settings };
      if (!options.email) return '--email (with ZENDESK_API_TOKEN), or ZENDESK_OAUTH_TOKEN';
      if (!secrets.ZENDESK_API_TOKEN) return 'the API token: set ZENDESK_API_TOKEN';
      return { credentials: { email: String(options.email), apiToken: secrets.ZENDESK_API_TOKEN }, settings };
    },
  },
};
