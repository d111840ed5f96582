import { afterEach, describe, expect, it } from 'vitest';
import { executeRun } from '../src/import/execute-run.ts';
import { createRun, getRun } from '../src/import/runs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { generateHelpScout, startFakeHelpScout, type FakeHelpScout } from './support/fake-provider/index.ts';
import { connectHelpScout } from './support/helpscout-imports.ts';
import { canonicalDump, executeDeps, runImport } from './support/imports.ts';
import { makeWorkspace } from './support/workspaces.ts';

/** The Help Scout import when Help Scout misbehaves: rate limits, outages, hangs, broken bodies. */

let db: TestDatabase | undefined;
const fakes: FakeHelpScout[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
  await db?.close();
  db = undefined;
});

// Short timeouts and backoff so faults cost milliseconds, not the production half-minute.
const FAST = { http: { timeoutMs: 1_000, backoffBaseMs: 20, maxInlineWaitMs: 3_000 } };

async function importOnce(options: Parameters<typeof startFakeHelpScout>[0] = {}, settings: Record<string, unknown> = {}) {
  db ??= await createTestDatabase();
  const fake = await startFakeHelpScout({ rateLimit: false, ...options });
  fakes.push(fake);
  const { workspace } = await makeWorkspace(db.pool, `W ${fakes.length}`, `help${fakes.length}@acme.com`);
  const connection = await connectHelpScout(db.pool, workspace.id, fake.url, settings);
  return { fake, workspace, connection };
}

const strip = (d: Awaited<ReturnType<typeof canonicalDump>>) => ({ ...d, totals: undefined });
const hal504 = { status: 504 };

describe('Help Scout import under provider failures', () => {
  it('429 storms, 500s, 504 "Internal Timeout", an HTML 502, a hang and truncated bodies: the run completes with the same data as a clean one', async () => {
    const clean = await importOnce();
    expect((await runImport(db!.pool, clean.connection.id, FAST)).outcome.status).toBe('succeeded');

    const faulty = await importOnce({
      faults: [
        { path: '/v2/customers', method: 'GET', status: 429, times: 3, headers: { 'x-ratelimit-retry-after': '1' } },
        { path: '/v2/conversations', status: 500, times: 2 },
        { path: '/v2/conversations', ...hal504, times: 1 },
        { path: '/threads', status: 502, html: true, times: 2 },
        { path: '/attachments/', hang: true, times: 1 },
        { path: /\/v2\/conversations\?.*mailbox=102/, truncateJson: true, times: 1 },
        { path: '/v2/mailboxes', truncateJson: 'abort', times: 1 },
        { path: '/v2/customers/308', status: 503, times: 1 },
        { path: '/v2/users/me', status: 500, times: 1 },
      ],
    });
    const { outcome } = await runImport(db!.pool, faulty.connection.id, FAST);
    expect(outcome.status).toBe('succeeded');
    // users/me is only asked when connecting, not by a run.
    expect(faulty.fake.pendingFaults()).toEqual([{ path: '/v2/users/me', status: 500, times: 1 }]);
    expect(strip(await canonicalDump(db!.pool, faulty.workspace.id))).toEqual(strip(await canonicalDump(db!.pool, clean.workspace.id)));
  });

  it('a 429 storm with Retry-After in Help Scout\'s header, JSON and text bodies: waited out, nothing lost', async () => {
    const { fake, connection, workspace } = await importOnce({
      faults: [
        { path: '/v2/conversations', status: 429, times: 4, headers: { 'x-ratelimit-retry-after': '1', 'x-ratelimit-remaining-minute': '0', 'x-ratelimit-limit-minute': '400' } },
        { path: '/data', status: 429, times: 2, html: true },
      ],
    });
    const started = Date.now();
    expect((await runImport(db!.pool, connection.id, FAST)).outcome.status).toBe('succeeded');
    expect(fake.pendingFaults()).toEqual([]);
    // Four times X-RateLimit-Retry-After: 1 on the same list, each waited out in full.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
    expect((await canonicalDump(db!.pool, workspace.id)).totals).toMatchObject({ customers: 8, threads: 8, entries: 47 });
  });

  it('stays under a rate limit it learns from the headers: no 429 at all, the run waits for windows instead', async () => {
    const data = generateHelpScout({ customers: 120, conversations: 60, threadsPerConversation: 2, attachments: 6, seed: 3 });
    const { fake, workspace, connection } = await importOnce({ data, rateLimit: { limit: 8, windowMs: 1_000 } }, { rateLimitWindowSeconds: 1 });
    const { runId, outcome } = await runImport(db!.pool, connection.id, FAST);
    expect(outcome.status).toBe('succeeded');
    expect(fake.rateLimitedCount()).toBe(0);
    const budgeted = fake.requests.filter((r) => r.path !== '/v2/oauth2/token');
    expect(budgeted.length).toBeGreaterThan(16);
    // More requests than a window allows, and never more than the limit in any of the fake's windows.
    expect(budgeted.at(-1)!.at - budgeted[0]!.at).toBeGreaterThan(1_000);
    expect((await getRun(db!.pool, workspace.id, runId))!.counts.conversations!.created).toBe(60);
  });

  it('a long X-RateLimit-Retry-After parks the run with its time instead of holding the worker', async () => {
    const { workspace, connection } = await importOnce({ faults: [{ path: '/v2/customers', status: 429, times: 1, headers: { 'x-ratelimit-retry-after': '120' } }] });
    const run = (await createRun(db!.pool, connection.id))!;
    const started = Date.now();
    const outcome = await executeRun(executeDeps(db!.pool, FAST), run.id);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome.status).toBe('waiting');
    expect((outcome as { retryAt: Date }).retryAt.getTime()).toBeGreaterThan(Date.now() + 100_000);
    const parked = (await getRun(db!.pool, workspace.id, run.id))!;
    expect(parked).toMatchObject({ status: 'waiting', error: expect.stringContaining('answered 429: API rate limit exceeded') });
  });

  it('a 504 that never ends parks the run with Help Scout\'s words and logRef, to try again later', async () => {
    const { workspace, connection } = await importOnce({ faults: [{ path: '/v2/conversations', status: 504, times: 100 }] });
    const run = (await createRun(db!.pool, connection.id))!;
    const outcome = await executeRun(executeDeps(db!.pool, { http: { timeoutMs: 1_000, backoffBaseMs: 5, maxInlineWaitMs: 3_000, maxRetries: 2 } }), run.id);
    expect(outcome).toMatchObject({ status: 'waiting', error: expect.stringMatching(/GET \/v2\/conversations answered 504: Internal Timeout \(logRef [0-9a-f-]+\)/) });
    // What came before stays: the customers are in.
    expect((await canonicalDump(db!.pool, workspace.id)).totals).toMatchObject({ customers: 7 });
  });
});
