import type { ImportAdapter } from '../../src/import/adapter.ts';
import { hubspotAuth } from './auth.ts';
import { accountDetails, READ_ONLY_POSTS, searchPacer } from './calls.ts';
import { classifyHubSpotError } from './errors.ts';
import { hubspotRateLimit, type AccountClock } from './rate-limit.ts';
import { credentialsSchema, settingsSchema, type HubSpotCredentials, type HubSpotSettings } from './schemas.ts';
import { contactsStream } from './streams.ts';

export const HUBSPOT_API = 'https://api.hubapi.com';
/** Contacts per page: HubSpot's maximum for the list and for search. */
const PAGE_SIZE = 100;
/** HubSpot's search limit is a few requests a second per account; this stays under it. */
const SEARCHES_PER_SECOND = 4;

/**
 * The account's clock (its time zone: the daily limit resets at its midnight), shared by the error
 * classifier the requester hands the engine and the session that learns it. The engine builds both
 * from the same settings object; a session it cannot find falls back to probing every half hour.
 */
const clocks = new WeakMap<HubSpotSettings, { clock: AccountClock | null }>();
const clockOf = (settings: HubSpotSettings) => {
  let held = clocks.get(settings);
  if (!held) clocks.set(settings, (held = { clock: null }));
  return held;
};

export const hubspotAdapter: ImportAdapter<HubSpotCredentials, HubSpotSettings> = {
  provider: 'hubspot',
  displayName: 'HubSpot',
  credentialsSchema,
  settingsSchema,
  describeCredentials: (c): Record<string, string> => ('refreshToken' in c ? { type: 'oauth', clientId: c.clientId } : { type: 'private_app' }),
  countNames: { person: 'contacts', tenant: 'companies', thread: 'threads', entry: 'entries', attachment: 'attachments', label: 'labels' },

  requester: ({ credentials, settings }) => {
    const baseUrl = settings.baseUrl ?? HUBSPOT_API;
    const held = clockOf(settings);
    const rate = hubspotRateLimit(() => held.clock);
    return {
      baseUrl,
      auth: hubspotAuth(credentials, baseUrl),
      rateLimit: { parseHeaders: rate.parseHeaders },
      readOnlyPosts: READ_ONLY_POSTS,
      classifyError: (response) => classifyHubSpotError(response, { rate, clock: () => held.clock }),
    };
  },

  open({ client, settings }) {
    const held = clockOf(settings);
    let learning: Promise<AccountClock> | undefined;
    const learn = async (signal?: AbortSignal) => {
      const details = await accountDetails(client, signal);
      held.clock = { timeZone: details.timeZone ?? null, utcOffsetMs: details.utcOffsetMilliseconds ?? null };
      return { details, clock: held.clock };
    };
    return {
      streams: [
        contactsStream({
          client,
          pageSize: settings.pageSize ?? PAGE_SIZE,
          paceSearch: searchPacer(SEARCHES_PER_SECOND),
          // Known from the cursor, else asked once a session (a failure, such as a spent daily limit, is asked again next page).
          ready: async (signal, stored) => {
            if (stored && !held.clock) held.clock = stored;
            if (held.clock) return held.clock;
            learning ??= learn(signal).then(
              (r) => r.clock,
              (err: unknown) => {
                learning = undefined;
                throw err;
              },
            );
            return learning;
          },
        }),
      ],
      async verify(signal) {
        // The portal id is the account: it names the ledger of every connection made before this one.
        const { details } = await learn(signal);
        return { accountId: String(details.portalId), accountName: details.uiDomain ? `HubSpot ${details.portalId} (${details.uiDomain})` : `HubSpot ${details.portalId}` };
      },
    };
  },

  cli: {
    options: [{ flags: '--page-size <n>', description: 'contacts per list and search page (1-100)' }],
    secrets: [
      { env: 'HUBSPOT_ACCESS_TOKEN', description: "a private app's access token (pat-...)" },
      { env: 'HUBSPOT_CLIENT_ID', description: "an OAuth app's client id (OAuth, with the next two)" },
      { env: 'HUBSPOT_CLIENT_SECRET', description: "the OAuth app's client secret" },
      { env: 'HUBSPOT_REFRESH_TOKEN', description: 'a refresh token the account granted the OAuth app' },
    ],
    build(options, secrets) {
      const settings: HubSpotSettings = { ...(options.baseUrl ? { baseUrl: String(options.baseUrl) } : {}), ...(options.pageSize ? { pageSize: Number(options.pageSize) } : {}) };
      const { HUBSPOT_ACCESS_TOKEN: token, HUBSPOT_CLIENT_ID: clientId, HUBSPOT_CLIENT_SECRET: clientSecret, HUBSPOT_REFRESH_TOKEN: refreshToken } = secrets;
      if (clientId || clientSecret || refreshToken) {
        const missing = [!clientId && 'HUBSPOT_CLIENT_ID', !clientSecret && 'HUBSPOT_CLIENT_SECRET', !refreshToken && 'HUBSPOT_REFRESH_TOKEN'].filter((s) => !!s);
        if (missing.length > 0) return `OAuth needs ${missing.join(', ')} as well`;
        return { credentials: { clientId: clientId!, clientSecret: clientSecret!, refreshToken: refreshToken! }, settings };
      }
      if (!token) return 'a private app token in HUBSPOT_ACCESS_TOKEN, or OAuth: HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN';
      return { credentials: { accessToken: token }, settings };
    },
  },
};
