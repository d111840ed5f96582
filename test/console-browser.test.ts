import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, screenshot } from './support/browser.ts';
import { startIntake, type RunningIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { generateZendesk, startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { connectZendesk } from './support/imports.ts';
import { startWebhookReceiver } from './support/webhook-receiver.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * Issue 17's "tested in a real browser": headless Chromium (Debian's package, through
 * playwright-core) drives the console of a real `intake start` process: its import worker against
 * the fake Zendesk, its inbound worker behind the real webhook with Basic auth, its webhook
 * deliveries to a real HTTP receiver. Each test opens its own page (own cookies); a page error or
 * a browser console error fails the test that saw it; every page visited leaves a screenshot in
 * test-output/console/.
 */

const INBOUND_AUTH = 'postmark:console-browser-test';
const zendeskData = generateZendesk({ users: 30, tickets: 60, commentsPerTicket: 3, seed: 17 });

let db: TestDatabase;
let browser: Browser;
let fake: FakeProvider;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let dataDir: string;
let intake: RunningIntake;
let acme: Awaited<ReturnType<typeof makeWorkspace>>;

beforeAll(async () => {
  [db, browser, fake, receiver, dataDir] = await Promise.all([
    createTestDatabase(),
    launchBrowser(),
    // Zendesk's per-minute budget scaled down to 10 requests a second, and pages of 10 tickets: the
    // import takes several seconds and commits a page at a time, so the bars move between polls.
    startFakeProvider({ data: zendeskData, rateLimit: { limit: 10, windowMs: 1000 } }),
    startWebhookReceiver(),
    mkdtemp(path.join(tmpdir(), 'intake-console-browser-')),
  ]);
  intake = await startIntake({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'),
    INBOUND_BASIC_AUTH: INBOUND_AUTH,
    WEBHOOK_ALLOW_PRIVATE: '1',
    IMPORT_ALLOW_PRIVATE: '1',
  });
  acme = await makeWorkspace(db.pool, 'Acme Support', 'help@acme.test');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (intake) {
    intake.child.kill('SIGTERM');
    await intake.exited;
  }
  await fake?.close();
  await receiver?.close();
  await db?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const consoleUrl = (p = '') => `${intake.url}/console${p}`;

type Counts = { created: number; linked: number; skipped: number; failed: number };
const TERMINAL_RUN = new Set(['succeeded', 'failed', 'needs_reauth', 'cancelled']);

/** What the fake Zendesk holds: tickets (deleted ones are skipped), their comments, end users and agents. */
function expectedZendeskCounts() {
  const tickets = { created: 0, skipped: 0 };
  let comments = 0;
  for (let i = 0; i < zendeskData.ticketCount; i++) {
    const ticket = zendeskData.ticketAt(i, fake.url);
    if (ticket.status === 'deleted') tickets.skipped++;
    else {
      tickets.created++;
      comments += zendeskData.commentsFor(ticket.id, fake.url).length;
    }
  }
  let endUsers = 0;
  let agents = 0;
  for (let i = 0; i < zendeskData.userCount; i++) {
    if (zendeskData.userAt(i, fake.url).role === 'end-user') endUsers++;
    else agents++;
  }
  return { tickets, comments, endUsers, agents };
}

/** Signs in through the form, as an operator does. */
async function signIn(page: Page, apiKey = acme.apiKey) {
  await page.goto(consoleUrl('/sign-in'));
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.url()).toBe(consoleUrl());
  await page.getByTestId('workspace-name').waitFor();
}

/** The session cookie the browser holds, if any. */
async function sessionCookie(page: Page) {
  return (await page.context().cookies(intake.url + '/console')).find((c) => c.name === 'intake_console');
}

describe('sign-in', () => {
  it('signs in from the keyboard alone with the API key, after refusing a wrong one; the cookie is HttpOnly and SameSite=Strict, and no page shows the key', async () => {
    const { page, errors } = await openPage(browser);
    // A browser without a session is sent to the sign-in form.
    await page.goto(consoleUrl());
    expect(page.url()).toBe(consoleUrl('/sign-in'));
    await screenshot(page, 'sign-in');

    // Keyboard only: the form puts the focus in the field; Tab reaches the button and Shift+Tab comes back.
    // (A string: this project's TypeScript has no DOM types.)
    const focused = () => page.evaluate<string>('document.activeElement.id || document.activeElement.textContent.trim()');
    expect(await focused()).toBe('apiKey');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Sign in');
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('apiKey');
    await page.keyboard.type('intake_not-a-real-key');
    await page.keyboard.press('Enter');
    await page.getByTestId('sign-in-error').waitFor();
    expect(await page.getByTestId('sign-in-error').textContent()).toContain('That API key is not valid.');
    expect(await page.getByLabel('API key').getAttribute('aria-invalid')).toBe('true');
    expect(await sessionCookie(page)).toBeUndefined();
    await screenshot(page, 'sign-in-refused');
    // The refused sign-in answers 401, which Chromium logs as a failed resource load: that one
    // message is expected; anything else stays and fails the test.
    const expected = errors.findIndex((e) => /Failed to load resource: the server responded with a status of 401/.test(e));
    expect(expected).toBeGreaterThanOrEqual(0);
    errors.splice(expected, 1);

    // The refusal's page has the focus in the field again.
    expect(await focused()).toBe('apiKey');
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type(acme.apiKey);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.url()).toBe(consoleUrl());
    expect(await page.getByTestId('workspace-name').textContent()).toBe('Workspace: Acme Support');
    expect(await page.locator('nav[aria-label="Main"] a[aria-current="page"]').textContent()).toBe('Overview');
    await screenshot(page, 'overview');

    const cookie = await sessionCookie(page);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect(cookie!.value).not.toContain(acme.apiKey);
    expect(await page.content()).not.toContain(acme.apiKey);
  });
});

describe('imports', () => {
  it('runs an import from the Imports page and watches its progress bars move, live, to done with the fake account\'s counts', async () => {
    const connection = await connectZendesk(db.pool, acme.workspace.id, fake.url, { pageSize: 10 });
    const { page } = await openPage(browser);
    await signIn(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Imports' }).click();
    await expect.poll(() => page.url()).toBe(consoleUrl('/imports'));
    const card = page.getByTestId(`connection-${connection.id}`);
    expect(await card.getByTestId('connection-status').textContent()).toBe('active');
    expect(await card.getByTestId('run-progress').getAttribute('data-run-status')).toBe('none');
    await screenshot(page, 'imports');

    await card.getByTestId('run-now').click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/console/imports');
    // From here on the test only reads the page: every change comes from the page's own polling.
    const progress = card.getByTestId('run-progress');
    const seen: number[] = [];
    let status = 'none';
    let shotWhileRunning = false;
    const until = Date.now() + 40_000;
    for (;;) {
      status = (await progress.getAttribute('data-run-status')) ?? 'none';
      if (TERMINAL_RUN.has(status)) break;
      if (status === 'running' && (await progress.getByTestId('run-processed').count()) > 0) {
        const processed = Number(await progress.getByTestId('run-processed').textContent());
        if (processed > 0 && !seen.includes(processed)) seen.push(processed);
        if (processed > 0 && !shotWhileRunning) {
          shotWhileRunning = true;
          await screenshot(page, 'imports-running');
        }
      }
      if (Date.now() > until) throw new Error(`the run is still ${status} on the page after 40 s; processed values seen: ${seen.join(', ')}`);
      await sleep(100);
    }
    expect(status).toBe('succeeded');
    await screenshot(page, 'imports-done');

    // The page's final figures are the fake account's records and the API's counts, stream by stream.
    const runId = (await progress.getAttribute('data-run-id'))!;
    const shown: Record<string, Counts> = {};
    for (const row of await progress.locator('tr[data-testid^="stream-"]').all()) {
      const name = (await row.getAttribute('data-testid'))!.slice('stream-'.length);
      expect(await row.getAttribute('data-state'), name).toBe('done');
      const cell = async (k: string) => Number(await row.getByTestId(k).textContent());
      shown[name] = { created: await cell('created'), linked: await cell('linked'), skipped: await cell('skipped'), failed: await cell('failed') };
    }
    const expected = expectedZendeskCounts();
    expect(shown.tickets).toEqual({ created: expected.tickets.created, linked: 0, skipped: expected.tickets.skipped, failed: 0 });
    expect(shown.comments).toEqual({ created: expected.comments, linked: 0, skipped: 0, failed: 0 });
    expect(shown.users).toEqual({ created: expected.endUsers, linked: 0, skipped: 0, failed: 0 });
    expect(shown.agents).toEqual({ created: expected.agents, linked: 0, skipped: 0, failed: 0 });
    const api = await fetch(`${intake.url}/v1/import-runs/${runId}`, { headers: { authorization: `Bearer ${acme.apiKey}` } });
    // (A stream that found nothing, such as organizations here, is a row of zeros on the page and absent from the API.)
    const nonEmpty = Object.fromEntries(Object.entries(shown).filter(([, c]) => c.created + c.linked + c.skipped + c.failed > 0));
    expect(((await api.json()) as { importRun: { streams: unknown } }).importRun.streams).toEqual(nonEmpty);
    const total = Object.values(shown).reduce((n, c) => n + c.created + c.linked + c.skipped + c.failed, 0);
    expect(Number(await progress.getByTestId('run-processed').textContent())).toBe(total);

    // The bars moved: at least two different counts strictly between nothing and the total, rising.
    // (The last page can be on the page a moment before the run is marked done.)
    const intermediate = seen.filter((n) => n < total);
    expect(intermediate.length, `processed values seen while running: ${seen.join(', ')} of ${total}`).toBeGreaterThanOrEqual(2);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);

    // The connection's page and the run's page show the same run.
    await card.getByTestId('connection-link').click();
    await expect.poll(() => page.url()).toBe(consoleUrl(`/imports/${connection.id}`));
    await screenshot(page, 'import-connection');
    await page.getByRole('link', { name: runId }).first().click();
    await expect.poll(() => page.url()).toBe(consoleUrl(`/imports/runs/${runId}`));
    expect(await page.getByTestId('run-status').first().textContent()).toBe('succeeded');
    await screenshot(page, 'import-run');
  }, 60_000);
});

describe('inbound mail', () => {
  it.todo('opens a rejected email, replays it and shows its new status');
});

describe('webhooks', () => {
  it.todo('resends a delivery to a real receiver and shows the new attempt');
});

describe('sign-out', () => {
  it('signs out: /console goes back to the sign-in form and the old cookie no longer opens a page', async () => {
    const { page, context } = await openPage(browser);
    await signIn(page);
    const before = await sessionCookie(page);
    expect(before).toBeDefined();

    await page.getByTestId('sign-out').click();
    await expect.poll(() => page.url()).toBe(consoleUrl('/sign-in'));
    expect(await sessionCookie(page)).toBeUndefined();
    await screenshot(page, 'signed-out');
    await page.goto(consoleUrl());
    expect(page.url()).toBe(consoleUrl('/sign-in'));

    // The old cookie, put back into the browser, opens nothing: the session is gone on the server.
    await context.addCookies([{ name: before!.name, value: before!.value, domain: before!.domain, path: before!.path }]);
    for (const p of ['', '/imports', '/inbound', '/webhooks']) {
      await page.goto(consoleUrl(p));
      expect(page.url(), p).toBe(consoleUrl('/sign-in'));
    }
    expect(await page.getByTestId('workspace-name').count()).toBe(0);
    // And outside the browser: the same cookie gets the redirect, not a page.
    const res = await fetch(consoleUrl(), { headers: { cookie: `${before!.name}=${before!.value}` }, redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/sign-in');
  });
});
