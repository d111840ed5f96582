import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRun, listRecordErrors } from '../src/import/runs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { canonicalDump, connectZendesk, eventsOut, runImport } from './support/imports.ts';
import { makeWorkspace } from './support/workspaces.ts';

let db: TestDatabase;
let fake: FakeProvider;
afterEach(async () => {
  await fake?.close();
  await db?.close();
});

async function setUp(options: Parameters<typeof startFakeProvider>[0] = {}) {
  db = await createTestDatabase();
  fake = await startFakeProvider({ rateLimit: false, ...options });
  const { workspace } = await makeWorkspace(db.pool);
  const connection = await connectZendesk(db.pool, workspace.id, fake.url);
  return { workspace, connection };
}

describe('Zendesk import of the fixtures', () => {
  it('creates exactly the expected customers, threads, labels, messages, notes and attachments', async () => {
    const { workspace, connection } = await setUp();
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome).toEqual({ status: 'succeeded' });
    const dump = await canonicalDump(db.pool, workspace.id);
    console.log(JSON.stringify(dump, null, 1));
    const run = await getRun(db.pool, workspace.id, runId);
    console.log(JSON.stringify(run), JSON.stringify(await listRecordErrors(db.pool, workspace.id, runId, 50)));
  });
});
