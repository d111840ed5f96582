import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_ADAPTERS } from '../importers/index.ts';
import { buildApp } from '../src/http/app.ts';
import { startJobs, type Jobs } from '../src/queue/boss.ts';
import { launchBrowser, openPage, screenshot } from './support/browser.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { TEST_SECRETS_KEY } from './support/workspaces.ts';

/** /docs in headless Chromium: the viewer renders every operation of the document from intake's own assets. */

let db: TestDatabase;
let jobs: Jobs;
let app: FastifyInstance;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  db = await createTestDatabase();
  jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
  app = await buildApp({
    pool: db.pool,
    boss: jobs.boss,
    inboundDomain: 'in.docs.test',
    inboundBasicAuth: 'postmark:docs-test',
    secretsKey: TEST_SECRETS_KEY,
    importAdapters: IMPORT_ADAPTERS,
  });
  origin = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await jobs?.stop();
  await db?.close();
});

describe('/docs in a browser', () => {
  it('shows every documented operation, loading nothing from another origin and logging no error', async (t) => {
    const { page } = await openPage(browser, t);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${origin}/docs`);
    const doc = (await (await fetch(`${origin}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    await page.locator('.opblock').nth(operations - 1).waitFor();
    expect(await page.locator('.opblock').count()).toBe(operations);
    // The security schemes are offered (the Authorize button) and the error shape is listed.
    await page.getByRole('button', { name: /authorize/i }).first().waitFor();
    await expect(page.locator('.models').getByText('Error', { exact: true }).count()).resolves.toBeGreaterThan(0);
    await screenshot(page, 'openapi-docs');
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'))).toEqual([]);
  }, 60_000);
});
