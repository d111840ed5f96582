import { afterEach, describe, expect, it } from 'vitest';
import { getConnection } from '../src/import/connections.ts';
import { executeRun } from '../src/import/execute-run.ts';
import { createRun, getRun } from '../src/import/runs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { canonicalDump, connectZendesk, executeDeps, runImport } from './support/imports.ts';
import { makeWorkspace } from './support/workspaces.ts';

let db: TestDatabase | undefined;
const fakes: FakeProvider[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
  await db?.close();
  db = undefined;
});

// Short timeouts and backoff so faults cost milliseconds, not the production half-minute.
const FAST = { http: { timeoutMs: 1_000, backoffBaseMs: 20, maxInlineWaitMs: 3_000 } };

async function importOnce(options: Parameters<typeof startFakeProvider>[0] = {}, settings: Record<string, unknown> = {}) {
  db ??= await createTestDatabase();
  const fake = await startFakeProvider({ rateLimit: false, ...options });
  fakes.push(fake);
  const { workspace } = await makeWorkspace(db.pool, `W ${fakes.length}`, `help${fakes.length}@acme.com`);
  const connection = await connectZendesk(db.pool, workspace.id, fake.url, settings);
  return { fake, workspace, connection };
}

describe('import under provider failures', () => {
  it('429 storms, 500s, an HTML 502, a hang and truncated bodies: the run completes with the same data as a clean one', async () => {
    const clean = await importOnce();
    expect((await runImport(db!.pool, clean.connection.id, FAST)).outcome.status).toBe('succeeded');

    const faulty = await importOnce({
      faults: [
        { path: '/incremental/users', status: 429, times: 3, headers: { 'retry-after': '1' } },
        { path: '/incremental/tickets', status: 500, times: 2 },
        { path: '/comments', status: 502, html: true, times: 2 },
        { path: '/users/show_many', hang: true, times: 1 },
        { path: '/incremental/tickets', truncateJson: true, times: 1 },
        { path: '/organizations', truncateJson: 'abort', times: 1 },
        { path: '/comments', status: 503, times: 1, headers: { 'retry-after': '0' } },
      ],
    });
    const { outcome } = await runImport(db!.pool, faulty.connection.id, FAST);
    expect(outcome.status).toBe('succeeded');
    expect(faulty.fake.pendingFaults()).toEqual([]);
    const strip = (d: Awaited<ReturnType<typeof canonicalDump>>) => ({ ...d, totals: undefined });
    expect(strip(await canonicalDump(db!.pool, faulty.workspace.id))).toEqual(strip(await canonicalDump(db!.pool, clean.workspace.id)));
  });

  it('stays under a rate limit it learns from the headers', async () => {
    const { fake, workspace, connection } = await importOnce({ rateLimit: { limit: 8, windowMs: 1_000, plainTextEvery: 2 } }, { pageSize: 2 });
    const { runId, outcome } = await runImport(db!.pool, connection.id, FAST);
    expect(outcome.status).toBe('succeeded');
    const run = (await getRun(db!.pool, workspace.id, runId))!;
    expect(run.counts.comments!.created).toBe(18);
    // The budget is learnt from the first answer: after that, no request meets a 429.
    expect(fake.rateLimitedCount()).toBe(0);
    expect(fake.requests.length).toBeGreaterThan(20);
    // More requests than one window allows: the run waited for windows to reset instead of failing.
    expect(fake.requests.at(-1)!.at - fake.requests[0]!.at).toBeGreaterThan(1_000);
  });

  it('keeps going after 429s it could not foresee, whatever their body', async () => {
    const { fake, connection } = await importOnce({
      faults: [
        { path: '/comments', status: 429, times: 4, headers: { 'retry-after': '1' }, html: true },
        { path: '/incremental/tickets', status: 429, times: 2 },
      ],
    });
    expect((await runImport(db!.pool, connection.id, FAST)).outcome.status).toBe('succeeded');
    expect(fake.pendingFaults()).toEqual([]);
  });

  it('a long Retry-After parks the run with its time instead of holding the worker', async () => {
    const { workspace, connection } = await importOnce({ faults: [{ path: '/organizations', status: 429, times: 1, headers: { 'retry-after': '120' } }] });
    const run = (await createRun(db!.pool, connection.id))!;
    const started = Date.now();
    const outcome = await executeRun(executeDeps(db!.pool, FAST), run.id);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome.status).toBe('waiting');
    const retryAt = (outcome as { retryAt: Date }).retryAt.getTime();
    expect(retryAt).toBeGreaterThan(Date.now() + 100_000);
    const parked = (await getRun(db!.pool, workspace.id, run.id))!;
    expect(parked).toMatchObject({ status: 'waiting' });
    expect(parked.retryAt!.getTime()).toBe(retryAt);
    expect(parked.error).toMatch(/429/);
    // Still the one active run: nobody can start a second one meanwhile.
    expect(await createRun(db!.pool, connection.id)).toBeNull();
  });

  it('401: the connection needs re-authorisation, with Zendesk\'s message, and the run stops', async () => {
    const { fake, workspace, connection } = await importOnce();
    fake.state.auth = { email: 'admin@acme-support.test', apiToken: 'a-new-token', oauthToken: 'x' };
    const { runId, outcome } = await runImport(db!.pool, connection.id, FAST);
    expect(outcome).toEqual({ status: 'needs_reauth', error: "Couldn't authenticate you" });
    expect(await getRun(db!.pool, workspace.id, runId)).toMatchObject({ status: 'needs_reauth', error: "Couldn't authenticate you" });
    expect(await getConnection(db!.pool, workspace.id, connection.id)).toMatchObject({ status: 'needs_reauth', lastError: "Couldn't authenticate you" });
    // No run starts on a connection that needs re-authorisation.
    expect(await createRun(db!.pool, connection.id)).toBeNull();
    expect((await canonicalDump(db!.pool, workspace.id)).totals).toMatchObject({ customers: 0, threads: 0 });
  });

  it('403 part-way: needs re-authorisation with the error object\'s title and message; what was imported stays', async () => {
    const { workspace, connection } = await importOnce({ forbidden: /\/incremental\/tickets/ });
    const { outcome } = await runImport(db!.pool, connection.id, FAST);
    expect(outcome).toEqual({
      status: 'needs_reauth',
      error: 'Forbidden: You do not have access to this page. Please contact the account owner of this help desk for further help.',
    });
    expect((await canonicalDump(db!.pool, workspace.id)).totals).toMatchObject({ customers: 7, threads: 0 });
  });
});
