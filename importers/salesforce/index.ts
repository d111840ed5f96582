import type { AuthGrant, ImportAdapter } from '../../src/import/adapter.ts';
import { ProviderError } from '../../src/import/errors.ts';
import {
  createAllocation,
  DEFAULT_ALLOCATION_PAUSE_MINUTES,
  DEFAULT_MAX_CALLS_PER_RUN,
  DEFAULT_MAX_ORG_API_USAGE_PERCENT,
} from './allocation.ts';
import { createSalesforceApi } from './api.ts';
import { classifySalesforceError } from './errors.ts';
import {
  credentialsSchema,
  DEFAULT_API_VERSION,
  organizationIdOf,
  resourcesSchema,
  settingsSchema,
  tokenResponseSchema,
  type SalesforceCredentials,
  type SalesforceSettings,
} from './schemas.ts';
import { contactsStream } from './streams.ts';

const TOKEN_PATH = '/services/oauth2/token';
/** Salesforce lets a query run for up to two minutes before it answers QUERY_TIMEOUT. */
const QUERY_TIMEOUT_MS = 130_000;

const pauseMs = (s: SalesforceSettings) => (s.allocationPauseMinutes ?? DEFAULT_ALLOCATION_PAUSE_MINUTES) * 60_000;

export const salesforceAdapter: ImportAdapter<SalesforceCredentials, SalesforceSettings> = {
  provider: 'salesforce',
  displayName: 'Salesforce',
  credentialsSchema,
  settingsSchema,
  describeCredentials: (c): Record<string, string> => ({ type: 'oauth_refresh_token', clientId: c.clientId }),
  countNames: { person: 'contacts', tenant: 'accounts', thread: 'threads', entry: 'entries', attachment: 'attachments', label: 'labels' },

  requester: ({ credentials, settings }) => {
    // A refresh that rotates the refresh token hands back the new one; the next refresh uses it.
    let current = credentials;
    return {
      // Until the first grant: every call goes to the instance_url the token endpoint names.
      baseUrl: settings.loginUrl,
      auth: {
        initial: null,
        async refresh(tokens, signal): Promise<AuthGrant> {
          const form = { grant_type: 'refresh_token', client_id: current.clientId, client_secret: current.clientSecret, refresh_token: current.refreshToken };
          // 400 invalid_grant (an expired or revoked refresh token) is an AuthError with Salesforce's error_description.
          const raw = await tokens.postForm(`${settings.loginUrl}${TOKEN_PATH}`, form, { signal });
          const parsed = tokenResponseSchema.safeParse(raw);
          if (!parsed.success) {
            throw new ProviderError({ method: 'POST', path: TOKEN_PATH, status: 200, detail: `unexpected token response: ${parsed.error.issues[0]?.message ?? 'bad shape'}` });
          }
          const token = parsed.data;
          const rotated = token.refresh_token && token.refresh_token !== current.refreshToken ? { ...current, refreshToken: token.refresh_token } : undefined;
          if (rotated) current = rotated;
          // Salesforce names no lifetime (the org's session timeout decides): refreshed on a 401.
          return { headers: { Authorization: `Bearer ${token.access_token}` }, expiresAt: null, baseUrl: token.instance_url, credentials: rotated };
        },
      },
      classifyError: (response) => classifySalesforceError(response, { allocationPauseMs: pauseMs(settings) }),
      timeoutMs: QUERY_TIMEOUT_MS,
    };
  },

  open({ client, settings }) {
    const allocation = createAllocation({
      maxUsagePercent: settings.maxOrgApiUsagePercent ?? DEFAULT_MAX_ORG_API_USAGE_PERCENT,
      maxCallsPerRun: settings.maxCallsPerRun ?? DEFAULT_MAX_CALLS_PER_RUN,
      pauseMs: pauseMs(settings),
    });
    const api = createSalesforceApi(client, { version: settings.apiVersion ?? DEFAULT_API_VERSION, batchSize: settings.batchSize, allocation });
    return {
      streams: [contactsStream(api)],
      async verify(signal) {
        // The resources of the API version (a version the org lacks is a 404 here) name the caller's identity.
        const { page, status, path } = await api.get(`/services/data/${api.version}/`, { schema: resourcesSchema, what: 'resources list', signal });
        const organizationId = organizationIdOf(page.identity);
        if (!organizationId) throw new ProviderError({ method: 'GET', path, status, detail: `no organization id in the identity URL ${JSON.stringify(page.identity)}` });
        // The organization id names the ledger; the instance's host names the org for people.
        return { accountId: organizationId, accountName: new URL(client.baseUrl).host };
      },
    };
  },

  cli: {
    options: [
      { flags: '--login-url <url>', description: 'https://login.salesforce.com, https://test.salesforce.com (a sandbox) or the org\'s My Domain' },
      { flags: '--login-host <host>', description: 'the same as a host name: login.salesforce.com, test.salesforce.com, acme.my.salesforce.com' },
      { flags: '--client-id <id>', description: 'the connected app\'s consumer key', required: true },
      { flags: '--api-version <version>', description: `the REST API version (default ${DEFAULT_API_VERSION})` },
      { flags: '--max-api-usage <percent>', description: `stop while the org has used more than this share of its daily API calls (default ${DEFAULT_MAX_ORG_API_USAGE_PERCENT})` },
      { flags: '--max-calls-per-run <n>', description: `API calls one run may spend before it waits (default ${DEFAULT_MAX_CALLS_PER_RUN})` },
    ],
    secrets: [
      { env: 'SALESFORCE_CLIENT_SECRET', description: 'the connected app\'s consumer secret' },
      { env: 'SALESFORCE_REFRESH_TOKEN', description: 'a refresh token the connected app was granted (scopes api and refresh_token)' },
    ],
    build(options, secrets) {
      const loginUrl = options.loginUrl ?? options.loginHost ?? options.baseUrl;
      if (!loginUrl) return '--login-url (https://login.salesforce.com, https://test.salesforce.com or the org\'s My Domain)';
      if (!secrets.SALESFORCE_CLIENT_SECRET) return 'the consumer secret: set SALESFORCE_CLIENT_SECRET';
      if (!secrets.SALESFORCE_REFRESH_TOKEN) return 'the refresh token: set SALESFORCE_REFRESH_TOKEN';
      const number = (v: unknown) => (v === undefined ? undefined : Number(v));
      const settings = {
        loginUrl,
        ...(options.apiVersion ? { apiVersion: options.apiVersion } : {}),
        ...(options.maxApiUsage !== undefined ? { maxOrgApiUsagePercent: number(options.maxApiUsage) } : {}),
        ...(options.maxCallsPerRun !== undefined ? { maxCallsPerRun: number(options.maxCallsPerRun) } : {}),
      } as SalesforceSettings;
      return { credentials: { clientId: String(options.clientId), clientSecret: secrets.SALESFORCE_CLIENT_SECRET, refreshToken: secrets.SALESFORCE_REFRESH_TOKEN }, settings };
    },
  },
};
