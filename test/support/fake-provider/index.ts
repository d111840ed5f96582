import { startFakeServer, type CoreOptions, type FakeServer } from './core.ts';
import { zendeskProvider, type ZendeskOptions, type ZendeskState } from './zendesk.ts';

export type { Fault, LoggedRequest, AttachmentRequest, RateLimitOptions } from './core.ts';
export { generateZendesk, zendeskFixtures, type ZendeskSource, type ZTicket, type ZUser, type ZComment, type ZOrganization } from './zendesk-data.ts';
export { DEFAULT_ZENDESK_AUTH, type ZendeskState, type ZendeskOptions } from './zendesk.ts';

/**
 * Providers the fake server can play. Adding one = a routes file (like zendesk.ts) exporting a
 * `xxxProvider(options)` factory, plus one line here.
 */
const providers = {
  zendesk: (o: ZendeskOptions) => zendeskProvider(o),
};

export type FakeProviderOptions = CoreOptions & ZendeskOptions & { provider?: keyof typeof providers };

export type FakeProvider = FakeServer & { state: ZendeskState };

/**
 * Starts the fake provider (Zendesk by default) on a loopback port, plus its attachment host on
 * another port. Default data: the fixtures in test/fixtures/zendesk; default credentials:
 * DEFAULT_ZENDESK_AUTH; default rate limit: 700 requests per 60 s (`rateLimit: false` disables).
 */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const factory = providers[options.provider ?? 'zendesk'](options);
  let state: ZendeskState | undefined;
  const server = await startFakeServer((urls) => {
    const def = factory(urls);
    state = def.state;
    return def;
  }, options);
  return Object.assign(server, { state: state! });
}
export { startFakeHelpScout, DEFAULT_HELPSCOUT_APP, type FakeHelpScout, type HelpScoutState, type HelpScoutOptions } from './helpscout.ts';
export { generateHelpScout, helpScoutFixtures, type HelpScoutSource } from './helpscout-data.ts';
export { startFakeHubSpot, DEFAULT_HUBSPOT_AUTH, HUBSPOT_PORTAL_ID, type FakeHubSpot, type HubSpotState, type HubSpotOptions } from './hubspot.ts';
export { generateHubSpot, hubspotFixtures, type HubSpotSource, type HContact, type HCompany } from './hubspot-data.ts';
export { startFakeSalesforce, DEFAULT_SALESFORCE_APP, FAKE_ORG_ID, type FakeSalesforce, type SalesforceState, type SalesforceOptions } from './salesforce.ts';
export { generateSalesforce, salesforceFixtures, type SalesforceSource } from './salesforce-data.ts';
