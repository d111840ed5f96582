import type { ImportAdapter } from '../src/import/adapter.ts';
import { helpScoutAdapter } from './helpscout/index.ts';
import { hubspotAdapter } from './hubspot/index.ts';
import { salesforceAdapter } from './salesforce/index.ts';
import { zendeskAdapter } from './zendesk/index.ts';

/** Every importer intake knows. A new provider is a folder here and one line below. */
export const IMPORT_ADAPTERS: Readonly<Record<string, ImportAdapter<any, any>>> = Object.freeze({
  zendesk: zendeskAdapter,
  helpscout: helpScoutAdapter,
  hubspot: hubspotAdapter,
  salesforce: salesforceAdapter,
});
