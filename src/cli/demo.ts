import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { InputError, type FieldError } from '../domain/input-error.ts';

/**
 * `intake demo [provider]`: a fake provider with generated data on a loopback port, and the exact
 * `intake import connect ...` line that imports it. The fake is the one the tests use
 * (test/support/fake-provider, shipped in the repository): real HTTP, the provider's own paging,
 * auth and rate limits, so the demo runs the same adapter code a real account does. It is loaded
 * only by this command, so no other command depends on test code.
 */
export async function demoCommand(config: Config, provider: string, options: { size: string; port: string; workspace?: string }): Promise<void> {
  const size = Number(options.size);
  const port = Number(options.port);
  const fields: FieldError[] = [];
  if (!Number.isInteger(size) || size < 1 || size > 100_000) fields.push({ field: '--size', message: 'a whole number from 1 to 100000', type: 'VALIDATION' });
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fields.push({ field: '--port', message: 'a port number from 0 to 65535', type: 'VALIDATION' });
  if (!(provider in PLAYERS)) fields.push({ field: 'provider', message: `one of: ${Object.keys(PLAYERS).join(', ')}`, type: 'VALIDATION' });
  if (fields.length) throw new InputError('Invalid demo options', fields);

  const fake = await import('../../test/support/fake-provider/index.ts');
  const demo = await PLAYERS[provider as keyof typeof PLAYERS](fake, size, port);
  const workspace = options.workspace ?? (await workspaceOf(config.dataDir)) ?? '<workspace id>';
  const secrets = Object.entries(demo.secrets).map(([name, value]) => `${name}=${value}`).join(' ');
  const line = `${secrets} npx intake import connect ${provider} --workspace ${workspace} ${demo.args.join(' ')} --once`;
  // Listening before the line is printed: a Ctrl-C sent on reading it must stop the fake cleanly,
  // not meet SIGINT's default action (the process killed before its handler was there).
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // What to run goes to stdout (a script can read it); the rest is for the person at the terminal.
  process.stdout.write(
    [
      `Fake ${demo.name} with ${demo.summary} at ${demo.url}`,
      ...Object.entries(demo.secrets).map(([name, value]) => `  ${name}: ${value}`),
      '',
      'Import it (in another terminal, with DATA_DIR as for `intake start`):',
      `  ${line}`,
      'Without --once the connection is queued for `intake start`, which runs local base URLs only with IMPORT_ALLOW_PRIVATE=1.',
      '',
    ].join('\n'),
  );
  process.stderr.write('Ctrl-C stops the fake provider.\n');
  await stopped;
  await demo.close();
}

type FakeModule = typeof import('../../test/support/fake-provider/index.ts');
type Demo = { name: string; summary: string; url: string; secrets: Record<string, string>; args: string[]; close: () => Promise<void> };

/** Each provider the demo plays: its fake with `size` generated records, and what `import connect` needs for it. */
const PLAYERS = {
  zendesk: async (fake: FakeModule, size: number, port: number): Promise<Demo> => {
    const users = Math.max(3, Math.ceil(size / 2));
    const server = await fake.startFakeProvider({ data: fake.generateZendesk({ users, tickets: size, commentsPerTicket: 3, seed: 1 }), port, host: '127.0.0.1' });
    const auth = fake.DEFAULT_ZENDESK_AUTH;
    return {
      name: 'Zendesk', summary: `${size} tickets from ${users} users`, url: server.url, close: server.close,
      secrets: { ZENDESK_API_TOKEN: auth.apiToken },
      args: ['--subdomain', 'demo', '--email', auth.email, '--base-url', server.url],
    };
  },
  helpscout: async (fake: FakeModule, size: number, port: number): Promise<Demo> => {
    const customers = Math.max(1, Math.ceil(size / 2));
    const server = await fake.startFakeHelpScout({ data: fake.generateHelpScout({ customers, conversations: size, threadsPerConversation: 3 }), port, host: '127.0.0.1' });
    const app = fake.DEFAULT_HELPSCOUT_APP;
    return {
      name: 'Help Scout', summary: `${size} conversations from ${customers} customers`, url: server.url, close: server.close,
      secrets: { HELPSCOUT_APP_SECRET: app.appSecret },
      args: ['--app-id', app.appId, '--base-url', server.url],
    };
  },
  hubspot: async (fake: FakeModule, size: number, port: number): Promise<Demo> => {
    const companies = Math.max(1, Math.ceil(size / 10));
    const server = await fake.startFakeHubSpot({ data: fake.generateHubSpot({ contacts: size, companies, seed: 1 }), port, host: '127.0.0.1' });
    return {
      name: 'HubSpot', summary: `${size} contacts in ${companies} companies`, url: server.url, close: server.close,
      secrets: { HUBSPOT_ACCESS_TOKEN: fake.DEFAULT_HUBSPOT_AUTH.privateAppToken },
      args: ['--base-url', server.url],
    };
  },
  salesforce: async (fake: FakeModule, size: number, port: number): Promise<Demo> => {
    const accounts = Math.max(1, Math.ceil(size / 10));
    const server = await fake.startFakeSalesforce({ data: fake.generateSalesforce({ contacts: size, accounts, seed: 1 }), port, host: '127.0.0.1' });
    const app = fake.DEFAULT_SALESFORCE_APP;
    return {
      name: 'Salesforce', summary: `${size} contacts on ${accounts} accounts`, url: server.loginUrl,
      close: server.close, // the instance and its login host
      secrets: { SALESFORCE_CLIENT_SECRET: app.clientSecret, SALESFORCE_REFRESH_TOKEN: app.refreshToken },
      args: ['--login-url', server.loginUrl, '--client-id', app.clientId],
    };
  },
};

/** The first workspace `intake start` created in this DATA_DIR, from credentials.json. */
async function workspaceOf(dataDir: string): Promise<string | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(path.join(dataDir, 'credentials.json'), 'utf8')) as { workspaceId?: unknown };
    return typeof parsed.workspaceId === 'string' ? parsed.workspaceId : null;
  } catch {
    return null;
  }
}
