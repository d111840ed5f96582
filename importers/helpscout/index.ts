import type { AuthGrant, Authenticator, ImportAdapter } from '../../src/import/adapter.ts';
import { ProviderError } from '../../src/import/errors.ts';
import { fetchPage } from '../../src/import/kit/index.ts';
import { conversationsStream } from './conversations.ts';
import { customersStream } from './customers.ts';
import { classifyHelpScoutError } from './errors.ts';
import { HELPSCOUT_WINDOW_MS, helpScoutRateLimit } from './rate-limit.ts';
import { credentialsSchema, meSchema, settingsSchema, tokenSchema, type HelpScoutCredentials, type HelpScoutSettings } from './schemas.ts';

const DEFAULT_BASE_URL = 'https://api.helpscout.net';
const TOKEN_PATH = '/v2/oauth2/token';
const ME = '/v2/users/me';

/**
 * OAuth2 client credentials: the app id and secret buy an access token (Help Scout's last two
 * days). The engine refreshes it a minute before it expires and once on a 401, and seals the
 * token it gets with the app's credentials, so the next run starts with it.
 */
function clientCredentials(credentials: HelpScoutCredentials, baseUrl: string): Authenticator {
  const expiresAt = credentials.accessTokenExpiresAt ? new Date(credentials.accessTokenExpiresAt) : null;
  return {
    initial: credentials.accessToken && expiresAt ? { headers: { Authorization: `Bearer ${credentials.accessToken}` }, expiresAt } : null,
    refresh: async (tokens, signal): Promise<AuthGrant> => {
      const url = `${baseUrl.replace(/\/+$/, '')}${TOKEN_PATH}`;
      const answer = tokenSchema.safeParse(await tokens.postForm(url, { grant_type: 'client_credentials', client_id: credentials.appId, client_secret: credentials.appSecret }, { signal }));
      if (!answer.success) throw new ProviderError({ method: 'POST', path: TOKEN_PATH, status: 200, detail: `unexpected token answer: ${answer.error.issues[0]?.message ?? 'bad shape'}` });
      const until = new Date(Date.now() + answer.data.expires_in * 1000);
      return {
        headers: { Authorization: `Bearer ${answer.data.access_token}` },
        expiresAt: until,
        credentials: { appId: credentials.appId, appSecret: credentials.appSecret, accessToken: answer.data.access_token, accessTokenExpiresAt: until.toISOString() } satisfies HelpScoutCredentials,
      };
    },
  };
}

export const helpScoutAdapter: ImportAdapter<HelpScoutCredentials, HelpScoutSettings> = {
  provider: 'helpscout',
  displayName: 'Help Scout',
  credentialsSchema,
  settingsSchema,
  describeCredentials: (c) => ({ type: 'client_credentials', appId: c.appId }),
  countNames: { person: 'customers', tenant: 'organizations', thread: 'conversations', entry: 'threads', attachment: 'attachments', label: 'tags' },

  requester: ({ credentials, settings }) => {
    const baseUrl = settings.baseUrl ?? DEFAULT_BASE_URL;
    const windowMs = (settings.rateLimitWindowSeconds ?? HELPSCOUT_WINDOW_MS / 1000) * 1000;
    return {
      baseUrl,
      auth: clientCredentials(credentials, baseUrl),
      // One budget per Help Scout account, shared with its other apps: read from its headers.
      rateLimit: helpScoutRateLimit(`${baseUrl}|${credentials.appId}`, windowMs),
      classifyError: classifyHelpScoutError,
      // Help Scout's window is a minute: waiting out the rest of it is cheaper than parking the run.
      maxInlineWaitMs: windowMs + 5_000,
    };
  },

  open({ client, settings }) {
    const concurrency = settings.concurrency ?? 4;
    return {
      streams: [customersStream(client), conversationsStream({ client, settings, concurrency })],
      async verify(signal) {
        const { page: me } = await fetchPage(client, { path: ME, signal }, meSchema, 'answer to users/me');
        // The company the app's owner belongs to is the account; an answer without one (an older
        // API age) falls back to that owner, the user Help Scout says the app is for.
        const accountId = me.companyId != null ? String(me.companyId) : `user-${me.id}`;
        const owner = [me.firstName, me.lastName].filter(Boolean).join(' ').trim() || me.email || `user ${me.id}`;
        return { accountId, accountName: me.companyId != null ? `Help Scout company ${me.companyId} (${owner})` : `Help Scout user ${owner}` };
      },
    };
  },

  cli: {
    options: [
      { flags: '--app-id <id>', description: 'the Help Scout app id (Your Profile > My Apps)', required: true },
      { flags: '--mailbox <id...>', description: 'import only this mailbox (repeat for several); all mailboxes by default' },
    ],
    secrets: [{ env: 'HELPSCOUT_APP_SECRET', description: "the app's secret (with --app-id)" }],
    build(options, secrets) {
      if (!secrets.HELPSCOUT_APP_SECRET) return 'the app secret: set HELPSCOUT_APP_SECRET';
      const mailboxes = [...new Set(([] as unknown[]).concat(options.mailbox ?? []).flatMap((m) => String(m).split(',')).map((m) => m.trim()).filter((m) => m !== ''))];
      const settings = {
        ...(options.baseUrl ? { baseUrl: String(options.baseUrl) } : {}),
        // Left as given: the settings schema names a mailbox id that is not a number.
        ...(mailboxes.length > 0 ? { mailboxIds: mailboxes.map((m) => (/^\d+$/.test(m) ? Number(m) : m)) } : {}),
      } as HelpScoutSettings;
      return { credentials: { appId: String(options.appId), appSecret: secrets.HELPSCOUT_APP_SECRET }, settings };
    },
  },
};
