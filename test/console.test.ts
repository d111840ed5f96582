import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_ADAPTERS } from '../importers/index.ts';
import { buildApp } from '../src/http/app.ts';
import { startJobs, type Jobs } from '../src/queue/boss.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/** The operator console over inject: sign-in and sessions, CSRF, workspace isolation, every page and action. */

let db: TestDatabase;
let jobs: Jobs;
let app: FastifyInstance;
let acme: Awaited<ReturnType<typeof makeWorkspace>>;
let globex: Awaited<ReturnType<typeof makeWorkspace>>;

beforeAll(async () => {
  db = await createTestDatabase();
  jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
  app = await buildApp({ pool: db.pool, boss: jobs.boss, inboundDomain: 'in.test', secretsKey: TEST_SECRETS_KEY, importAdapters: IMPORT_ADAPTERS, importAllowPrivate: true, webhookAllowPrivate: true });
  acme = await makeWorkspace(db.pool, 'Acme', 'help@acme.com');
  globex = await makeWorkspace(db.pool, 'Globex', 'help@globex.com');
}, 120_000);

afterAll(async () => {
  await app?.close();
  await jobs?.stop();
  await db?.close();
});

type Browser = { cookie: string; csrf: string };

/** Signs in as a browser would: the form, the cookie, the CSRF token from the page. */
async function signIn(apiKey: string): Promise<Browser> {
  const res = await app.inject({ method: 'POST', url: '/console/sign-in', payload: { apiKey } });
  expect(res.statusCode, res.body).toBe(303);
  const set = res.cookies.find((c) => c.name === 'intake_console')!;
  const cookie = `intake_console=${set.value}`;
  const page = await app.inject({ method: 'GET', url: '/console/imports', headers: { cookie } });
  expect(page.statusCode).toBe(200);
  return { cookie, csrf: csrfOf(page.body) };
}

const csrfOf = (html: string) => /<meta name="csrf-token" content="([^"]+)">/.exec(html)![1]!;

const get = (b: Browser | null, url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers: { ...(b ? { cookie: b.cookie } : {}), ...headers } });
const post = (b: Browser, url: string, form: Record<string, string> = {}, withCsrf = true) =>
  app.inject({ method: 'POST', url, headers: { cookie: b.cookie }, payload: { ...form, ...(withCsrf ? { _csrf: b.csrf } : {}) } });

describe('sign-in and sessions', () => {
  it('shows the sign-in form to a browser without a session, and sends every page there', async () => {
    const form = await get(null, '/console/sign-in');
    expect(form.statusCode).toBe(200);
    expect(form.headers['content-type']).toMatch(/text\/html/);
    expect(form.body).toContain('<label for="apiKey">API key</label>');
    for (const url of ['/console', '/console/imports', '/console/inbound', '/console/webhooks']) {
      const res = await get(null, url);
      expect(res.statusCode, url).toBe(303);
      expect(res.headers.location).toBe('/console/sign-in');
    }
    // htmx polling a fragment is told to navigate, not handed the sign-in page to swap in.
    const polled = await get(null, '/console/imports', { 'hx-request': 'true' });
    expect(polled.statusCode).toBe(200);
    expect(polled.headers['hx-redirect']).toBe('/console/sign-in');
  });

  it('refuses a wrong key with the form again and no cookie', async () => {
    const res = await app.inject({ method: 'POST', url: '/console/sign-in', payload: { apiKey: 'intake_not-a-key' } });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('That API key is not valid.');
    expect(res.cookies).toHaveLength(0);
    const empty = await app.inject({ method: 'POST', url: '/console/sign-in', payload: { apiKey: '' } });
    expect(empty.statusCode).toBe(401);
  });

  it('exchanges a good key for an HttpOnly, SameSite=Strict cookie on /console; the key is never shown again', async () => {
    const res = await app.inject({ method: 'POST', url: '/console/sign-in', payload: { apiKey: acme.apiKey } });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console');
    const set = res.cookies.find((c) => c.name === 'intake_console')!;
    expect(set).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    // Plain http: a Secure cookie would never come back.
    expect(set.secure).toBeUndefined();
    expect(set.value).not.toContain(acme.apiKey);
    const cookie = `intake_console=${set.value}`;
    for (const url of ['/console', '/console/imports', '/console/inbound', '/console/webhooks']) {
      const page = await get({ cookie, csrf: '' }, url);
      expect(page.statusCode, url).toBe(200);
      expect(page.body).not.toContain(acme.apiKey);
      expect(page.body).toContain('Workspace: Acme');
    }
    // Only the token's hash is stored.
    const { rows } = await db.pool.query('SELECT token_sha256, workspace_id FROM console_sessions');
    expect(rows.some((r) => r.token_sha256 === set.value)).toBe(false);
    expect(rows.map((r) => r.workspace_id)).toContain(acme.workspace.id);
  });

  it('signs out: the session row is gone and the old cookie opens nothing', async () => {
    const b = await signIn(acme.apiKey);
    const refused = await post(b, '/console/sign-out', {}, false);
    expect(refused.statusCode).toBe(403);
    expect((await get(b, '/console/imports')).statusCode).toBe(200);
    const out = await post(b, '/console/sign-out');
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/console/sign-in');
    expect(out.cookies.find((c) => c.name === 'intake_console')?.value).toBe('');
    const after = await get(b, '/console/imports');
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe('/console/sign-in');
  });

  it('sends security headers: a CSP allowing only this origin, no framing, no caching of pages', async () => {
    const b = await signIn(acme.apiKey);
    const page = await get(b, '/console/imports');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('refuses a POST from another origin, even the sign-in', async () => {
    const res = await app.inject({ method: 'POST', url: '/console/sign-in', payload: { apiKey: acme.apiKey }, headers: { origin: 'https://evil.example' } });
    expect(res.statusCode).toBe(403);
    expect(res.cookies).toHaveLength(0);
  });
});

describe('assets', () => {
  it('serves htmx, Chart.js, the stylesheet, the script and the icon from intake itself', async () => {
    for (const [name, type] of [
      ['htmx.min.js', 'text/javascript'],
      ['chart.umd.min.js', 'text/javascript'],
      ['console.css', 'text/css'],
      ['console.js', 'text/javascript'],
      ['favicon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await get(null, `/console/assets/${name}`);
      expect(res.statusCode, name).toBe(200);
      expect(res.headers['content-type']).toContain(type);
      expect(res.body.length).toBeGreaterThan(100);
    }
    expect((await get(null, '/console/assets/..%2Fplugin.ts')).statusCode).toBe(404);
    expect((await get(null, '/console/assets/package.json')).statusCode).toBe(404);
  });
});
