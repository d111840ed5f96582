import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../src/db/pool.ts';
import { createWorkspace } from '../../src/domain/workspaces.ts';

export const TEST_SECRETS_KEY = randomBytes(32);

export async function makeWorkspace(db: Queryable, name = 'Acme', supportAddress = 'help@acme.com') {
  return createWorkspace(db, TEST_SECRETS_KEY, { name, supportAddress });
}
