import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
 * deliveries to a real HTTP receiver. One browser for the file, a page (own cookies) per test; a
 * page error or a browser console error fails the test that saw it; every page visited is checked
 * for unnamed controls and leaves a screenshot in test-output/console/. The tests run in order on
 * one workspace: the overview near the end shows what the ones before it did.
 */

const INBOUND_AUTH = 'postmark:console-browser-test';
/** Generous: the suite runs three files at once on two cores, and a browser is slow under that load. */
const TEST_TIMEOUT_MS = 60_000;
const INBOUND_DOMAIN = 'in.console.test';
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
    // Zendesk's per-minute budget scaled down to 12 requests a second, and pages of 10 tickets: the
    // import takes several seconds and commits a page at a time, so the bars move between polls.
    startFakeProvider({ data: zendeskData, rateLimit: { limit: 12, windowMs: 1000 } }),
    startWebhookReceiver(),
    mkdtemp(path.join(tmpdir(), 'intake-console-browser-')),
  ]);
  intake = await startIntake({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'),
    INBOUND_BASIC_AUTH: INBOUND_AUTH,
    INBOUND_DOMAIN,
    WEBHOOK_ALLOW_PRIVATE: '1',
    IMPORT_ALLOW_PRIVATE: '1',
  });
  acme = await makeWorkspace(db.pool, 'Acme Support', 'help@acme.com');
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

/** A small MIME email, optionally with an .exe attachment (a file type Plain refuses). */
function mime(m: { from: string; to: string; subject: string; messageId: string; text: string; exe?: string }): string {
  const boundary = 'console-browser-boundary';
  const head = [`From: ${m.from}`, `To: ${m.to}`, `Subject: ${m.subject}`, `Message-ID: ${m.messageId}`, 'Date: Mon, 30 Nov 2026 09:00:00 +0000', 'MIME-Version: 1.0'];
  if (!m.exe) return [...head, 'Content-Type: text/plain; charset=utf-8', '', m.text, ''].join('\r\n');
  return [
    ...head,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    m.text,
    `--${boundary}`,
    `Content-Type: application/octet-stream; name="${m.exe}"`,
    `Content-Disposition: attachment; filename="${m.exe}"`,
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('MZ not really a program').toString('base64'),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** Posts a raw email to the real inbound webhook with Basic auth, as a mail provider does; returns its id. */
async function receiveMime(raw: string): Promise<string> {
  const res = await fetch(`${intake.url}/inbound/mime`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822', authorization: `Basic ${Buffer.from(INBOUND_AUTH).toString('base64')}` },
    body: raw,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { inboundEmailId: string }).inboundEmailId;
}

/** Waits until the email has been processed `attempts` times and is no longer `received`. */
async function settled(id: string, attempts = 1): Promise<{ status: string; attempts: number }> {
  for (let i = 0; i < 400; i++) {
    const { rows } = await db.pool.query('SELECT status, attempts FROM inbound_emails WHERE id = $1', [id]);
    if (rows[0] && rows[0].status !== 'received' && rows[0].attempts >= attempts) return rows[0];
    await sleep(50);
  }
  throw new Error(`inbound email ${id} was not processed ${attempts} time(s) in 20 s`);
}

/**
 * Every control, link and image on the page has an accessible name (a label, its text, aria-label
 * or aria-labelledby), and the document has a language. (A string: no DOM types here.)
 */
const UNNAMED = `(() => {
  const named = (el) => {
    const by = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean).map((id) => document.getElementById(id)?.textContent || '').join(' ');
    const labels = el.labels ? [...el.labels].map((l) => l.textContent).join(' ') : '';
    return [el.getAttribute('aria-label'), by, labels, el.textContent, el.getAttribute('title')].some((t) => t && t.trim());
  };
  const bad = [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href], [role=img], canvas')].filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 160));
  if (!document.documentElement.lang) bad.push('<html> without lang');
  return bad;
})()`;

/** What every page visited gets: a full-page screenshot in test-output/console/, and the accessible-name check. */
async function visited(page: Page, name: string) {
  await screenshot(page, name);
  expect(await page.evaluate<string[]>(UNNAMED), `elements without an accessible name on ${page.url()}`).toEqual([]);
}

/** Signs in through the form, as an operator does. */
async function signIn(page: Page, apiKey = acme.apiKey) {
  await page.goto(consoleUrl('/sign-in'));
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await arrivedAt(page, consoleUrl());
  await page.getByTestId('workspace-name').waitFor();
}

/** Waits (up to the page's 15 s) until the page is at exactly this URL: a navigation under load can take seconds. */
async function arrivedAt(page: Page, url: string) {
  await page.waitForURL((u) => u.href === url);
  expect(page.url()).toBe(url);
}

/** The session cookie the browser holds, if any. */
async function sessionCookie(page: Page) {
  return (await page.context().cookies(intake.url + '/console')).find((c) => c.name === 'intake_console');
}

it('the harness fails a test on a page error or a console error, and on a missing Chromium; the accessible-name check finds unnamed controls', async (t) => {
  const { page, errors } = await openPage(browser, t);
  await page.setContent('<p>harness check</p><script>console.error("a console error"); setTimeout(() => { throw new Error("an uncaught error"); });</script>');
  await expect.poll(() => errors.length, { timeout: 15_000 }).toBe(2);
  expect(errors[0]).toMatch(/^console error on about:blank: a console error/);
  expect(errors[1]).toMatch(/^page error on about:blank: an uncaught error/);
  errors.length = 0; // seen: this test passes
  // The accessible-name check every visited page gets finds what it should.
  await page.setContent('<html><body><button></button><label for="a">Name</label><input id="a"><input id="b"></body></html>');
  expect(await page.evaluate<string[]>(UNNAMED)).toEqual(['<button></button>', '<input id="b">', '<html> without lang']);
  await expect(launchBrowser('/nonexistent/chromium')).rejects.toThrow(/^Chromium is not installed at \/nonexistent\/chromium: the console's browser tests need it/);
});

it('signs in from the keyboard alone with the API key, after refusing a wrong one; the cookie is HttpOnly and SameSite=Strict, and no page shows the key', async (t) => {
  const { page, errors } = await openPage(browser, t);
  // A browser without a session is sent to the sign-in form.
  await page.goto(consoleUrl());
  expect(page.url()).toBe(consoleUrl('/sign-in'));
  await visited(page, 'sign-in');

  // Keyboard only: the form puts the focus in the field; Tab reaches the button and Shift+Tab comes back.
  // (A string: this project's TypeScript has no DOM types.)
  const focused = () => page.evaluate<string>('document.activeElement.id || document.activeElement.textContent.trim()');
  // (autofocus is applied at a rendering step, which can come after the load event)
  const autofocused = () => page.waitForFunction("document.activeElement && document.activeElement.id === 'apiKey'");
  await autofocused();
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
  await visited(page, 'sign-in-refused');
  // The refused sign-in answers 401, which Chromium logs as a failed resource load: that one
  // message is expected; anything else stays and fails the test.
  const expected = errors.findIndex((e) => /Failed to load resource: the server responded with a status of 401/.test(e));
  expect(expected).toBeGreaterThanOrEqual(0);
  errors.splice(expected, 1);

  // The refusal's page has the focus in the field again.
  await autofocused();
  expect(await focused()).toBe('apiKey');
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type(acme.apiKey);
  await page.keyboard.press('Enter');
  await arrivedAt(page, consoleUrl());
  expect(await page.getByTestId('workspace-name').textContent()).toBe('Workspace: Acme Support');
  expect(await page.locator('nav[aria-label="Main"] a[aria-current="page"]').textContent()).toBe('Overview');
  await visited(page, 'overview');

  const cookie = await sessionCookie(page);
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
  expect(cookie!.value).not.toContain(acme.apiKey);
  expect(await page.content()).not.toContain(acme.apiKey);
}, TEST_TIMEOUT_MS);

it('runs an import from the Imports page and watches its progress bars move, live, to done with the fake account\'s counts', async (t) => {
  const connection = await connectZendesk(db.pool, acme.workspace.id, fake.url, { pageSize: 10 });
  const { page } = await openPage(browser, t);
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Imports' }).click();
  await arrivedAt(page, consoleUrl('/imports'));
  const card = page.getByTestId(`connection-${connection.id}`);
  expect(await card.getByTestId('connection-status').textContent()).toBe('active');
  expect(await card.getByTestId('run-progress').getAttribute('data-run-status')).toBe('none');
  await visited(page, 'imports');

  await card.getByTestId('run-now').click();
  await page.waitForURL((url) => url.pathname === '/console/imports');
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
        await visited(page, 'imports-running');
      }
    }
    if (Date.now() > until) throw new Error(`the run is still ${status} on the page after 40 s; processed values seen: ${seen.join(', ')}`);
    await sleep(100);
  }
  expect(status).toBe('succeeded');
  await visited(page, 'imports-done');

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
  await arrivedAt(page, consoleUrl(`/imports/${connection.id}`));
  await visited(page, 'import-connection');
  await page.getByRole('link', { name: runId }).first().click();
  await arrivedAt(page, consoleUrl(`/imports/runs/${runId}`));
  expect(await page.getByTestId('run-status').first().textContent()).toBe('succeeded');
  await visited(page, 'import-run');
}, TEST_TIMEOUT_MS);

it('opens a rejected email and replays it (rejected again, a second attempt); replays an unroutable one after the operator adds the address (processed, refused .exe shown); downloads the raw message', async (t) => {
  const inbound = `${acme.workspace.inboundToken}@${INBOUND_DOMAIN}`;
  const rejectedRaw = mime({ from: 'nobody', to: inbound, subject: 'Who am I', messageId: '<nobody-1@console.test>', text: 'No sender here.', exe: 'tool.exe' });
  const unroutableRaw = mime({ from: 'Jane Doe <jane@initech.test>', to: 'sales@acme.com', subject: 'Printer on fire', messageId: '<fire-1@initech.test>', text: 'Our printer is on fire <again>.', exe: 'fix.exe' });
  const rejected = await receiveMime(rejectedRaw);
  const unroutable = await receiveMime(unroutableRaw);
  expect(await settled(rejected)).toMatchObject({ status: 'rejected', attempts: 1 });
  expect(await settled(unroutable)).toMatchObject({ status: 'unroutable', attempts: 1 });

  const { page } = await openPage(browser, t);
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbound mail' }).click();
  await arrivedAt(page, consoleUrl('/inbound'));
  const rejectedRow = page.getByTestId(`email-${rejected}`);
  expect(await rejectedRow.getAttribute('data-status')).toBe('rejected');
  expect(await rejectedRow.getByTestId('reason').textContent()).toMatch(/^no_sender: the email has no usable From address/);
  expect(await page.getByTestId(`email-${unroutable}`).getAttribute('data-status')).toBe('unroutable');
  await visited(page, 'inbound');
  await page.getByTestId('filter-rejected').click();
  await arrivedAt(page, consoleUrl('/inbound?status=rejected'));
  expect(await page.locator('tr[data-testid^="email-"]').count()).toBe(1);
  await visited(page, 'inbound-rejected');

  // The rejected email: why, what it carried (not stored), no thread; Replay runs it again.
  await rejectedRow.getByRole('link').click();
  await arrivedAt(page, consoleUrl(`/inbound/${rejected}`));
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Who am I');
  expect(await page.getByTestId('email-status').textContent()).toBe('rejected');
  expect(await page.getByTestId('email-reason').textContent()).toMatch(/^no_sender/);
  expect(await page.getByTestId('email-thread').textContent()).toContain('none: the email did not land in a thread');
  expect(await page.getByTestId('attachments').textContent()).toContain('tool.exe');
  expect(await page.getByTestId('email-text').textContent()).toContain('No sender here.');
  await visited(page, 'inbound-email-rejected');
  await page.getByTestId('replay').click();
  await arrivedAt(page, consoleUrl(`/inbound/${rejected}?notice=replayed`));
  expect(await page.getByTestId('notice').textContent()).toBe('Replayed: the email is being processed again.');
  expect(await settled(rejected, 2)).toMatchObject({ status: 'rejected', attempts: 2 });
  await page.reload();
  expect(await page.getByTestId('email-status').textContent()).toBe('rejected');
  expect(await page.getByTestId('email-facts').textContent()).toContain('2 attempt(s)');
  await visited(page, 'inbound-email-replayed-rejected');

  // The raw message downloads byte for byte.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-raw').click()]);
  expect(download.suggestedFilename()).toBe(`${rejected}.eml`);
  expect((await readFile(await download.path())).equals(Buffer.from(rejectedRaw))).toBe(true);

  // The unroutable email: the operator adds sales@ to the workspace (through the API), then replays it.
  const patched = await fetch(`${intake.url}/v1/workspace`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${acme.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ alternateAddresses: ['sales@acme.com'] }),
  });
  expect(patched.status).toBe(200);
  await page.goto(consoleUrl(`/inbound/${unroutable}`));
  expect(await page.getByTestId('email-status').textContent()).toBe('unroutable');
  await visited(page, 'inbound-email-unroutable');
  await page.getByTestId('replay').click();
  await arrivedAt(page, consoleUrl(`/inbound/${unroutable}?notice=replayed`));
  expect(await settled(unroutable, 2)).toMatchObject({ status: 'processed', attempts: 2 });
  await page.reload();
  expect(await page.getByTestId('email-status').textContent()).toBe('processed');
  expect(await page.getByTestId('replay').count()).toBe(0);
  expect(await page.getByTestId('email-thread').textContent()).toContain('Printer on fire');
  const exeRow = page.getByTestId('attachments').locator('tr', { hasText: 'fix.exe' });
  expect(await exeRow.getAttribute('data-status')).toBe('rejected');
  expect(await exeRow.textContent()).toContain('attachment_file_type_not_allowed');
  expect(await page.getByTestId('email-text').textContent()).toContain('Our printer is on fire <again>.');
  await visited(page, 'inbound-email-processed');

  // The list shows the new status and the refused attachment with its code.
  await page.getByRole('link', { name: '← Inbound mail' }).click();
  await arrivedAt(page, consoleUrl('/inbound'));
  expect(await page.getByTestId(`email-${unroutable}`).getAttribute('data-status')).toBe('processed');
  const refused = page.getByTestId('refused-attachments').locator('tr', { hasText: 'fix.exe' });
  expect(await refused.textContent()).toContain('attachment_file_type_not_allowed');
  await visited(page, 'inbound-after-replays');
}, TEST_TIMEOUT_MS);

it('resends a delivery to a real HTTP receiver and shows the new attempt; rotates the secret, shown once', async (t) => {
  const created = await fetch(`${intake.url}/v1/webhook-targets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${acme.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${receiver.url}/ok/console`, eventTypes: ['thread.thread_created'] }),
  });
  expect(created.status).toBe(201);
  const target = ((await created.json()) as { webhookTarget: { id: string; version: string } }).webhookTarget;
  // A new thread from a new customer: one thread_created event, one delivery, one POST.
  const inbound = `${acme.workspace.inboundToken}@${INBOUND_DOMAIN}`;
  expect(await settled(await receiveMime(mime({ from: 'Kim <kim@globex.com>', to: inbound, subject: 'Webhook me', messageId: '<webhook-1@globex.com>', text: 'Hello.' })))).toMatchObject({ status: 'processed' });
  const posts = () => receiver.on('/ok/console').filter((r) => r.body.includes('Webhook me'));
  await expect.poll(() => posts().length, { timeout: 15_000 }).toBe(1);
  const eventId = posts()[0]!.headers['webhook-id'] as string;
  // Attempts are recorded in batches, a moment after the POST.
  const deliveryOf = async () => (await db.pool.query('SELECT id, status, attempts FROM webhook_deliveries WHERE target_id = $1 AND event_id = $2', [target.id, eventId])).rows;
  await expect.poll(deliveryOf, { timeout: 15_000 }).toEqual([{ id: expect.any(String), status: 'delivered', attempts: 1 }]);
  const deliveryId = (await deliveryOf())[0].id as string;

  const { page } = await openPage(browser, t);
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
  await arrivedAt(page, consoleUrl('/webhooks'));
  const row = page.getByTestId(`target-${target.id}`);
  expect(await row.getByTestId('target-version').textContent()).toBe(target.version);
  await visited(page, 'webhooks');
  await row.getByRole('link', { name: `${receiver.url}/ok/console` }).click();
  await arrivedAt(page, consoleUrl(`/webhooks/${target.id}`));
  const delivery = page.getByTestId(`delivery-${deliveryId}`);
  expect(await delivery.getAttribute('data-status')).toBe('delivered');
  expect(await delivery.getByTestId('attempt-1').textContent()).toContain('200');
  expect(await delivery.getByTestId('attempt-2').count()).toBe(0);
  await visited(page, 'webhook-target');

  await delivery.getByTestId('resend').click();
  await arrivedAt(page, consoleUrl(`/webhooks/${target.id}?notice=resent#delivery-${deliveryId}`));
  expect(await page.getByTestId('notice').textContent()).toBe('Resent: the delivery is due now as its next attempt.');
  // The receiver gets the same event again as attempt 2, and the page shows that attempt.
  await expect.poll(() => posts().length, { timeout: 15_000 }).toBe(2);
  expect(posts()[1]!.headers['webhook-id']).toBe(eventId);
  const [first, second] = posts().map((p) => JSON.parse(p.body) as { payload: unknown; webhookMetadata: { webhookDeliveryAttemptNumber: number } });
  expect(second!.payload).toEqual(first!.payload);
  expect([first!.webhookMetadata.webhookDeliveryAttemptNumber, second!.webhookMetadata.webhookDeliveryAttemptNumber]).toEqual([1, 2]);
  await expect.poll(deliveryOf, { timeout: 15_000 }).toEqual([{ id: deliveryId, status: 'delivered', attempts: 2 }]);
  await page.reload();
  expect(await delivery.getAttribute('data-status')).toBe('delivered');
  expect(await delivery.getByTestId('attempt-2').textContent()).toContain('200');
  await visited(page, 'webhook-resent');

  // Rotate: the new secret is shown on this response only.
  await page.getByTestId('rotate-secret').click();
  const secret = await page.getByTestId('signing-secret').textContent();
  expect(secret).toMatch(/^whsec_/);
  await visited(page, 'webhook-secret-rotated');
  await page.goto(consoleUrl(`/webhooks/${target.id}`));
  expect(await page.getByTestId('signing-secret').count()).toBe(0);
  expect(await page.content()).not.toContain(secret!);
}, TEST_TIMEOUT_MS);

it('the overview draws its three charts with Chart.js from what the tests above did: emails, the import run, webhook attempts', async (t) => {
  const { page } = await openPage(browser, t);
  await signIn(page);
  const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM inbound_emails WHERE workspace_id = $1', [acme.workspace.id]);
  expect(rows[0].n).toBeGreaterThanOrEqual(3);
  expect(await page.getByTestId('inbound-total').textContent()).toBe(String(rows[0].n));
  expect(await page.getByTestId('import-runs').textContent()).toBe('1');
  expect(await page.getByTestId('webhook-rate').textContent()).toBe('100%');
  // Each canvas holds a chart, and the inbound chart's bars add up to the emails received.
  // (Strings: this project's TypeScript has no DOM types.)
  await page.waitForFunction("['chart-inbound', 'chart-imports', 'chart-webhooks'].every((id) => window.Chart && window.Chart.getChart(document.getElementById(id)))");
  const inboundBars = await page.evaluate<number>(
    "Chart.getChart(document.getElementById('chart-inbound')).data.datasets.reduce((n, d) => n + d.data.reduce((a, b) => a + b, 0), 0)",
  );
  expect(inboundBars).toBe(rows[0].n);
  expect(await page.evaluate<number>("Chart.getChart(document.getElementById('chart-imports')).data.datasets.length")).toBe(1);
  await visited(page, 'overview-with-data');
  // Keyboard: the first Tab reaches the skip link, and Enter on it moves the focus to the main content.
  await page.keyboard.press('Tab');
  expect(await page.evaluate<string>('document.activeElement.textContent.trim()')).toBe('Skip to main content');
  await page.keyboard.press('Enter');
  expect(await page.evaluate<string>('document.activeElement.id')).toBe('main');
}, TEST_TIMEOUT_MS);

it('signs out: /console goes back to the sign-in form and the old cookie no longer opens a page', async (t) => {
  const { page, context } = await openPage(browser, t);
  await signIn(page);
  const before = await sessionCookie(page);
  expect(before).toBeDefined();

  await page.getByTestId('sign-out').click();
  await arrivedAt(page, consoleUrl('/sign-in'));
  expect(await sessionCookie(page)).toBeUndefined();
  await visited(page, 'signed-out');
  await page.goto(consoleUrl());
  expect(page.url()).toBe(consoleUrl('/sign-in'));

  // The old cookie, put back into the browser (before each page, in case a redirect cleared it), opens nothing: the session is gone on the server.
  for (const p of ['', '/imports', '/inbound', '/webhooks']) {
    await context.addCookies([{ name: before!.name, value: before!.value, domain: before!.domain, path: before!.path }]);
    await page.goto(consoleUrl(p));
    expect(page.url(), p).toBe(consoleUrl('/sign-in'));
  }
  expect(await page.getByTestId('workspace-name').count()).toBe(0);
  // And outside the browser: the same cookie gets the redirect, not a page.
  const res = await fetch(consoleUrl(), { headers: { cookie: `${before!.name}=${before!.value}` }, redirect: 'manual' });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/console/sign-in');
}, TEST_TIMEOUT_MS);

it('the service logged no error while the browser drove it', () => {
  const errorLines = intake.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
  expect(errorLines).toEqual([]);
});
