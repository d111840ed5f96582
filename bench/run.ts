import { benchAutoResponses } from './auto-responses.ts';
import { benchCustomers } from './customers.ts';
import { benchImportHelpScout } from './import-helpscout.ts';
import { benchImportHubSpot } from './import-hubspot.ts';
import { benchImportMemory } from './import-memory.ts';
import { benchImportSalesforce } from './import-salesforce.ts';
import { benchImportZendesk } from './import-zendesk.ts';
import { benchInbound } from './inbound.ts';
import { benchInboundOpen } from './inbound-open.ts';
import { benchWebhooks } from './webhooks.ts';

/** `npm run bench [name ...]`: runs the named benchmarks, or all of them. */
const BENCHMARKS: Record<string, () => Promise<void>> = {
  'auto-responses': () => benchAutoResponses(),
  customers: () => benchCustomers(),
  'import-helpscout': () => benchImportHelpScout(),
  'import-hubspot': () => benchImportHubSpot(),
  'import-memory': () => benchImportMemory(),
  'import-salesforce': () => benchImportSalesforce(),
  'import-zendesk': () => benchImportZendesk(),
  inbound: () => benchInbound(),
  'inbound-open': () => benchInboundOpen(),
  webhooks: () => benchWebhooks(),
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!BENCHMARKS[name]) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
}
for (const name of wanted.length ? wanted : Object.keys(BENCHMARKS)) await BENCHMARKS[name]!();
