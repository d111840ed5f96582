import type { z } from 'zod';
import type { Queryable } from '../db/pool.ts';
import type { FieldError } from '../domain/input-error.ts';
import { InputError } from '../domain/input-error.ts';
import { refuseOutboundUrl } from '../net/address-guard.ts';
import type { AccountInfo, ImportAdapter } from './adapter.ts';
import { openSession } from './open-session.ts';
import { createConnection, type ImportConnection } from './connections.ts';
import { AuthError, RecordError, RetryLaterError } from './errors.ts';

/**
 * Checks a new connection's input the way every entry point needs it (API and CLI): the
 * adapter's schemas, a base URL that cannot reach private addresses, and the credentials
 * against the provider itself, before anything is saved.
 */

export type ConnectInput = {
  provider: string;
  credentials: unknown;
  settings: unknown;
  scheduleSeconds: number;
};

/** The provider could not be reached to check the credentials; nothing was saved. */
export class ProviderUnreachableError extends Error {
  override name = 'ProviderUnreachableError';
}

function fieldsOf(error: z.ZodError, prefix: string): FieldError[] {
  return error.issues.map((i) => ({ field: [prefix, ...i.path.map(String)].join('.'), message: i.message, type: 'VALIDATION' as const }));
}

export async function checkConnectionInput(
  adapters: Readonly<Record<string, ImportAdapter<any, any>>>,
  input: ConnectInput,
  options: { allowPrivate: boolean; userAgent: string },
): Promise<{ adapter: ImportAdapter<any, any>; credentials: unknown; settings: Record<string, unknown>; account: string; accountName: string }> {
  const adapter = adapters[input.provider];
  if (!adapter) {
    throw new InputError('Unknown provider', [{ field: 'provider', message: `must be one of: ${Object.keys(adapters).join(', ')}`, type: 'VALIDATION' }]);
  }
  const credentials = adapter.credentialsSchema.safeParse(input.credentials);
  const settings = adapter.settingsSchema.safeParse(input.settings ?? {});
  const fields = [...(credentials.success ? [] : fieldsOf(credentials.error, 'credentials')), ...(settings.success ? [] : fieldsOf(settings.error, 'settings'))];
  if (!credentials.success || !settings.success) throw new InputError('Invalid import connection', fields);
  const baseUrl = (settings.data as { baseUrl?: unknown }).baseUrl;
  if (typeof baseUrl === 'string') {
    const refused = await refuseOutboundUrl(baseUrl, options.allowPrivate);
    if (refused) throw new InputError('Invalid import connection', [{ field: 'settings.baseUrl', message: refused, type: 'VALIDATION' }]);
  }
  // A refresh during the check may rotate the credentials: the latest ones are what gets saved.
  let latest: unknown = credentials.data;
  const opened = openSession(adapter, {
    credentials: credentials.data,
    settings: settings.data,
    userAgent: options.userAgent,
    http: { timeoutMs: 10_000, maxRetries: 1, maxInlineWaitMs: 5_000, allowPrivateAddresses: options.allowPrivate },
    onCredentials: async (rotated) => {
      latest = rotated;
    },
  });
  let account: AccountInfo;
  try {
    account = await opened.session.verify();
  } catch (err) {
    if (err instanceof AuthError) {
      throw new InputError(`${input.provider} refused these credentials`, [{ field: 'credentials', message: err.providerMessage ?? err.detail, type: 'VALIDATION' }]);
    }
    if (err instanceof RecordError) throw new InputError(`No ${input.provider} account there`, [{ field: 'settings', message: err.message, type: 'VALIDATION' }]);
    if (err instanceof RetryLaterError) throw new ProviderUnreachableError(`${input.provider} could not be reached to check the credentials: ${err.message}`);
    throw new InputError(`${input.provider} did not accept the connection`, [{ field: 'settings', message: (err as Error).message, type: 'VALIDATION' }]);
  } finally {
    opened.close();
  }
  return { adapter, credentials: latest, settings: settings.data as Record<string, unknown>, account: account.accountId, accountName: account.accountName };
}

/** Checks, then saves the connection (credentials sealed). */
export async function connectProvider(
  db: Queryable,
  secretsKey: Buffer,
  adapters: Readonly<Record<string, ImportAdapter<any, any>>>,
  workspaceId: string,
  input: ConnectInput,
  options: { allowPrivate: boolean; userAgent: string },
): Promise<ImportConnection> {
  const checked = await checkConnectionInput(adapters, input, options);
  return createConnection(db, secretsKey, {
    workspaceId,
    provider: input.provider,
    account: checked.account,
    credentials: checked.credentials,
    settings: checked.settings,
    scheduleSeconds: input.scheduleSeconds,
  });
}
