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
  if (provider !== 'zendesk') fields.push({ field: 'provider', message: `the demo plays zendesk (not ${provider})`, type: 'VALIDATION' });
  if (fields.length) throw new InputError('Invalid demo options', fields);

  const fake = await import('../../test/support/fake-provider/index.ts');
  const users = Math.max(3, Math.ceil(size / 2));
  const data = fake.generateZendesk({ users, tickets: size, commentsPerTicket: 3, seed: 1 });
  const server = await fake.startFakeProvider({ data, port, host: '127.0.0.1' });
  const workspace = options.workspace ?? (await workspaceOf(config.dataDir)) ?? '<workspace id>';
  const auth = fake.DEFAULT_ZENDESK_AUTH;
  const line =
    `ZENDESK_API_TOKEN=${auth.apiToken} npx intake import connect zendesk --workspace ${workspace} ` +
    `--subdomain demo --email ${auth.email} --base-url ${server.url} --once`;
  // What to run goes to stdout (a script can read it); the rest is for the person at the terminal.
  process.stdout.write(
    [
      `Fake Zendesk with ${size} tickets from ${users} users at ${server.url}`,
      `  email:     ${auth.email}`,
      `  API token: ${auth.apiToken}`,
      '',
      'Import it (in another terminal, with DATA_DIR as for `intake start`):',
      `  ${line}`,
      'Without --once the connection is queued for `intake start`, which runs local base URLs only with IMPORT_ALLOW_PRIVATE=1.',
      '',
    ].join('\n'),
  );
  process.stderr.write('Ctrl-C stops the fake provider.\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

/** The first workspace `intake start` created in this DATA_DIR, from credentials.json. */
async function workspaceOf(dataDir: string): Promise<string | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(path.join(dataDir, 'credentials.json'), 'utf8')) as { workspaceId?: unknown };
    return typeof parsed.workspaceId === 'string' ? parsed.workspaceId : null;
  } catch {
    return null;
  }
}
