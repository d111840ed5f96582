import type { Queryable } from '../../src/db/pool.ts';
import { createConnection } from '../../src/import/connections.ts';
import { DEFAULT_HELPSCOUT_APP } from './fake-provider/index.ts';
import { TEST_SECRETS_KEY } from './workspaces.ts';

/** A Help Scout connection pointed at the fake provider (company 777 in the fixtures). */
export async function connectHelpScout(db: Queryable, workspaceId: string, baseUrl: string, settings: Record<string, unknown> = {}, credentials: Record<string, unknown> = {}) {
  return createConnection(db, TEST_SECRETS_KEY, {
    workspaceId,
    provider: 'helpscout',
    account: '777',
    credentials: { ...DEFAULT_HELPSCOUT_APP, ...credentials },
    settings: { baseUrl, ...settings },
    scheduleSeconds: 300,
  });
}
