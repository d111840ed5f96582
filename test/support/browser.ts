import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { onTestFinished, type TestContext } from 'vitest';

/**
 * Headless Chromium for the console's browser tests: Debian's `chromium` package (installed by
 * .ci/run when missing) driven through playwright-core, which downloads no browser of its own.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Where screenshots go: test-output/console/ at the repository root (ignored by git). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-output/console/', import.meta.url));

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Chromium with a fresh profile (playwright's launch() makes a new temporary
 * user-data-dir and removes it on close). A missing browser is a failure, never a skip: CI
 * installs it, and a suite that silently skips its browser tests proves nothing.
 */
export async function launchBrowser(executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium is not installed at ${executablePath}: the console's browser tests need it. ` +
        `Install Debian's package (sudo apt-get install --no-install-recommends chromium; .ci/run does this), ` +
        `or point CHROMIUM_PATH at another Chromium binary.`,
    );
  }
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 30_000 });
}

export type WatchedPage = {
  page: Page;
  context: BrowserContext;
  /** Page errors and console errors seen so far, in order. */
  errors: string[];
};

/**
 * A page in a context of its own (own cookies), watched for uncaught page errors and console
 * messages of type 'error'. When the current test finishes, the context is closed and the test
 * fails if anything was collected, so a broken script or a failed asset load on any page fails
 * the test that visited it. Pass the test's context (`it('...', async (t) => openPage(browser, t))`)
 * when tests run concurrently.
 */
export async function openPage(browser: Browser, test?: Pick<TestContext, 'onTestFinished'>, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  // Well inside the test's own timeout, so a missing element fails with its name, not a bare timeout.
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`page error on ${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location().url;
    errors.push(`console error on ${page.url()}: ${msg.text()}${where ? ` (${where})` : ''}`);
  });
  // Concurrent tests must pass their own context: the global hook cannot tell which test runs.
  (test?.onTestFinished ?? onTestFinished)(async () => {
    await context.close();
    if (errors.length > 0) throw new Error(`the browser reported ${errors.length} error(s):\n${errors.join('\n')}`);
  });
  return { page, context, errors };
}

/** A full-page PNG of what the page shows now, to test-output/console/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`screenshot name ${JSON.stringify(name)}: letters, digits, dot, dash and underscore only`);
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
