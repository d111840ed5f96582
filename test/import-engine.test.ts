import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { findOrCreateLabel } from '../src/domain/labels.ts';
import type { AuthGrant, PersonRecord, ThreadRecord } from '../src/import/adapter.ts';
import { createConnection } from '../src/import/connections.ts';
import { getRun, listRecordErrors } from '../src/import/runs.ts';
import { decryptSecret } from '../src/secret-box.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { canonicalDump, eventsOut, runImport } from './support/imports.ts';
import { scriptedAdapter, type Script, type ScriptedCredentials } from './support/scripted-adapter.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * The engine driven by a scripted in-memory adapter, no provider HTTP: create-only writes, links
 * to what the workspace has, memberships, statuses, people with several or no emails, record
 * failures, a crash between pages, the credentials lifecycle and cursors from another release.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
}, 120_000);
afterAll(async () => db?.close());

const at = (day: number) => new Date(Date.UTC(2024, 0, day, 9));
const person = (sourceId: string, emails: string[], extra: Partial<PersonRecord> = {}): PersonRecord => ({ sourceId, role: 'customer', name: null, emails, createdAt: at(1), ...extra });
const thread = (sourceId: string, customerSourceId: string, extra: Partial<ThreadRecord> = {}): ThreadRecord => ({
  sourceId,
  title: `Thread ${sourceId}`,
  status: 'TODO',
  channel: 'EMAIL',
  customerSourceId,
  labels: [],
  createdAt: at(2),
  ...extra,
});
const message = (sourceId: string, threadSourceId: string, authorSourceId: string, text: string, kind: 'message' | 'note' = 'message') => ({
  sourceId,
  threadSourceId,
  kind,
  author: { kind: 'person' as const, sourceId: authorSourceId, fallbackName: `Someone ${authorSourceId}` },
  text,
  html: null,
  createdAt: at(3),
  attachments: [],
});

function baseScript(): Script {
  return {
    streams: [
      { name: 'tenants', pages: [{ tenants: [{ sourceId: '11', externalId: 'acme-inc', name: 'Acme Inc', domain: 'acme.test' }, { sourceId: '12', externalId: 'beta-llc', name: 'Beta LLC' }] }] },
      {
        name: 'people',
        pages: [
          {
            people: [
              // Already a customer here: linked, never renamed, given no new memberships.
              person('21', ['Jane@Acme.test', 'jane.doe@acme.test'], { name: 'Jane Imported', tenantSourceIds: ['11'] }),
              person('22', ['bob@beta.test', 'bob@alt.test', 'BOB@beta.test'], { name: 'Bob Both', tenantSourceIds: ['11', '12'] }),
            ],
          },
          {
            people: [
              person('23', [], { name: 'No Mail' }),
              person('24', ['agent@company.test'], { role: 'agent', name: 'Ada Agent' }),
              person('25', ['not an email'], { name: 'Broken' }),
            ],
            failures: [{ recordType: 'person', sourceId: '29', reason: 'unreadable person', excerpt: '{"id":29}' }],
          },
        ],
      },
      {
        name: 'threads',
        pages: [
          {
            threads: [
              thread('101', '22', { status: 'SNOOZED', labels: ['vip', 'New', 'new'] }),
              // Opened by an agent, and by someone the provider no longer has.
              thread('102', '24', { status: 'DONE' }),
              thread('103', '404', { customerFallbackName: 'Ghost 404' }),
            ],
            entries: [message('1001', '101', '22', 'Hello from Bob'), message('1002', '101', '24', 'Internal: check billing', 'note'), message('1003', '102', '24', 'Opened on behalf of a caller')],
          },
        ],
      },
    ],
  };
}

async function setUp(script: Script, credentials: ScriptedCredentials = { token: 't0' }) {
  const { workspace } = await makeWorkspace(db.pool, `Engine ${Math.random().toString(36).slice(2, 8)}`, `help@engine-${Math.random().toString(36).slice(2, 8)}.test`);
  const connection = await createConnection(db.pool, TEST_SECRETS_KEY, { workspaceId: workspace.id, provider: 'scripted', account: 'scripted-account', credentials, settings: {}, scheduleSeconds: 300 });
  return { workspace, connection };
}

const run = (connectionId: string, script: Script, baseUrl?: string) => runImport(db.pool, connectionId, { adapters: { scripted: scriptedAdapter(script, baseUrl) } });

describe('the import engine with a scripted adapter', () => {
  it('creates only, links to what the workspace has, and keeps memberships, statuses, emails and failures', async () => {
    const script = baseScript();
    const { workspace, connection } = await setUp(script);
    const local = { db: db.pool, workspaceId: workspace.id, origin: 'api' as const };
    const { customer: jane } = await findOrCreateCustomerByEmail(local, { email: 'jane@acme.test', fullName: 'Jane Local' });
    const { label: vip } = await findOrCreateLabel(local, 'VIP');
    const quiet = await eventsOut(db.pool);

    const first = await run(connection.id, script);
    expect(first.outcome.status).toBe('succeeded');
    const dump = await canonicalDump(db.pool, workspace.id);
    expect(dump.customers.map((c) => [c.email, c.full_name, c.origin])).toEqual([
      ['agent@company.test', 'Ada Agent', 'import'],
      ['bob@beta.test', 'Bob Both', 'import'],
      ['jane@acme.test', 'Jane Local', 'api'],
      [null, 'Ghost 404', 'import'],
      [null, 'No Mail', 'import'],
    ]);
    expect(dump.tenants).toEqual([
      { external_id: 'acme-inc', name: 'Acme Inc', members: ['bob@beta.test'] },
      { external_id: 'beta-llc', name: 'Beta LLC', members: ['bob@beta.test'] },
    ]);
    const { rows: domains } = await db.pool.query('SELECT external_id, domain FROM tenants WHERE workspace_id = $1 ORDER BY external_id', [workspace.id]);
    expect(domains).toEqual([{ external_id: 'acme-inc', domain: 'acme.test' }, { external_id: 'beta-llc', domain: null }]);
    expect(dump.threads.map((t) => [t.ticket, t.status, t.customer, t.labels])).toEqual([
      ['101', 'SNOOZED', 'bob@beta.test', ['New', 'VIP']],
      ['102', 'DONE', 'agent@company.test', null],
      ['103', 'TODO', 'Ghost 404', null],
    ]);
    expect(dump.entries.map((e) => [e.comment, e.kind, e.author_type, e.author])).toEqual([
      ['1001', 'inbound_message', 'customer', 'bob@beta.test'],
      ['1002', 'note', 'user', 'agent@company.test'],
      ['1003', 'outbound_message', 'user', 'agent@company.test'],
    ]);
    // The workspace's own label was linked, not copied; its name stays as the workspace wrote it.
    const { rows: labels } = await db.pool.query('SELECT id, name, origin FROM labels WHERE workspace_id = $1 ORDER BY name', [workspace.id]);
    expect(labels.map((l) => [l.name, l.origin])).toEqual([['New', 'import'], ['VIP', 'api']]);
    expect(labels.find((l) => l.name === 'VIP')!.id).toBe(vip.id);
    // Jane linked; her second address kept in the ledger, as Bob's are.
    const { rows: ledger } = await db.pool.query(`SELECT source_id, entity_id, disposition, details FROM import_ledger WHERE workspace_id = $1 AND source_type = 'person' ORDER BY source_id`, [workspace.id]);
    expect(ledger.find((l) => l.source_id === '21')).toMatchObject({ entity_id: jane.id, disposition: 'linked', details: { otherEmails: ['jane.doe@acme.test'] } });
    expect(ledger.find((l) => l.source_id === '22')).toMatchObject({ disposition: 'created', details: { otherEmails: ['bob@alt.test'] } });
    expect(ledger.find((l) => l.source_id === '404')).toMatchObject({ disposition: 'created', details: { unknownToProvider: true } });
    const errors = await listRecordErrors(db.pool, workspace.id, first.runId, 10);
    expect(errors.errors.map((e) => [e.stream, e.recordType, e.sourceId, e.reason])).toEqual([
      ['people', 'person', '29', 'unreadable person'],
      ['people', 'person', '25', 'unusable email address "not an email"'],
    ]);
    const counts = (await getRun(db.pool, workspace.id, first.runId))!.counts;
    // Bob, No Mail, the agent's own customer record and the unknown requester; the agent as an author.
    expect(counts.people).toMatchObject({ created: 4, linked: 1, failed: 2 });
    expect(counts.agents).toMatchObject({ created: 1 });
    expect(counts.threads).toMatchObject({ created: 3 });
    expect(counts.labels).toMatchObject({ created: 1, linked: 1 });

    // Again: nothing new. Then the provider has more: only that is created.
    expect((await run(connection.id, script)).outcome.status).toBe('succeeded');
    expect(await canonicalDump(db.pool, workspace.id)).toEqual(dump);
    script.streams[2]!.pages.push({ threads: [thread('104', '23')], entries: [message('1004', '101', '22', 'Any news?'), message('1005', '104', '23', 'No mail here')] });
    const third = await run(connection.id, script);
    expect(third.outcome.status).toBe('succeeded');
    const after = await canonicalDump(db.pool, workspace.id);
    expect(after.threads.map((t) => t.ticket)).toEqual(['101', '102', '103', '104']);
    expect(after.entries.map((e) => e.comment)).toEqual(['1001', '1002', '1003', '1004', '1005']);
    expect(after.customers).toEqual(dump.customers);
    expect((await getRun(db.pool, workspace.id, third.runId))!.counts.threads).toMatchObject({ created: 1 });
    // The workspace's own writes above made events; the imports made none.
    expect(await eventsOut(db.pool)).toEqual(quiet);
  });

  it('a crash between pages resumes from the last committed page and ends equal to an uninterrupted run', async () => {
    const reference = await setUp(baseScript());
    expect((await run(reference.connection.id, baseScript())).outcome.status).toBe('succeeded');
    const expected = await canonicalDump(db.pool, reference.workspace.id);

    const script = { ...baseScript(), failOnce: { stream: 'people', page: 1, error: new Error('the worker died here') } };
    const { workspace, connection } = await setUp(script);
    const crashed = await run(connection.id, script);
    expect(crashed.outcome).toMatchObject({ status: 'failed', error: 'the worker died here' });
    // The first people page committed before the crash: it is not read again.
    const { rows: cursors } = await db.pool.query('SELECT stream, cursor FROM import_cursors WHERE connection_id = $1 ORDER BY stream', [connection.id]);
    expect(cursors).toEqual([{ stream: 'people', cursor: { page: 1 } }, { stream: 'tenants', cursor: { page: 1 } }]);
    expect((await run(connection.id, script)).outcome.status).toBe('succeeded');
    const dump = await canonicalDump(db.pool, workspace.id);
    expect({ ...dump, customers: dump.customers.filter((c) => c.origin === 'import') }).toEqual({ ...expected, customers: expected.customers.filter((c) => c.origin === 'import') });
  });

  it('refuses a stored cursor this release cannot read, with a clear error, instead of misreading it', async () => {
    const script = baseScript();
    const { workspace, connection } = await setUp(script);
    await db.pool.query(`INSERT INTO import_cursors (connection_id, stream, workspace_id, cursor) VALUES ($1, 'people', $2, '{"after":"c2VlbiBpdA=="}')`, [connection.id, workspace.id]);
    const result = await run(connection.id, script);
    expect(result.outcome.status).toBe('failed');
    expect(result.outcome).toMatchObject({ error: expect.stringMatching(/^the stored cursor of stream "people" is not one this release can read .*c2VlbiBpdA==/) });
    // The stream before it ran; nothing after it did.
    const dump = await canonicalDump(db.pool, workspace.id);
    expect(dump.tenants).toHaveLength(2);
    expect(dump.totals.threads).toBe(0);
  });
});

describe('the credentials lifecycle', () => {
  let server: http.Server;
  let url: string;
  const state = { refreshTokens: new Map<string, string>(), access: new Set<string>(), tokenCalls: [] as string[], unauthorizedOnce: false, refuseAll: false, n: 0 };
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (req.method === 'POST' && req.url === '/oauth/token') {
          const form = new URLSearchParams(body);
          const token = form.get('refresh_token') ?? '';
          state.tokenCalls.push(token);
          const next = state.refreshTokens.get(token);
          if (form.get('grant_type') !== 'refresh_token' || !next) return json(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' });
          state.refreshTokens.delete(token);
          const access = `a${++state.n}`;
          state.access.add(access);
          state.refreshTokens.set(next, `r${state.n + 10}`);
          return json(200, { access_token: access, refresh_token: next, expires_in: 1800, token_type: 'bearer' });
        }
        if (req.url === '/ping') {
          const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
          if (state.refuseAll || state.unauthorizedOnce || !state.access.has(bearer)) {
            state.unauthorizedOnce = false;
            return json(401, { error: 'invalid_token', error_description: 'The access token is invalid or has expired' });
          }
          return json(200, { ok: true });
        }
        json(404, { error: 'not found' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** An OAuth refresh-token provider: the access token is fetched first, and rotated refresh tokens are kept. */
  function oauthScript(): Script {
    return {
      ...baseScript(),
      beforePage: async (client, signal) => void (await client.get('/ping', { signal })),
      auth: (credentials) => {
        let refreshToken = credentials.refreshToken!;
        return {
          initial: credentials.accessToken ? { headers: { Authorization: `Bearer ${credentials.accessToken}` }, expiresAt: new Date(Date.now() + 3_600_000) } : null,
          refresh: async (tokens, signal): Promise<AuthGrant> => {
            const answer = (await tokens.postForm(`${url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, { signal })) as { access_token: string; refresh_token: string; expires_in: number };
            refreshToken = answer.refresh_token;
            return {
              headers: { Authorization: `Bearer ${answer.access_token}` },
              expiresAt: new Date(Date.now() + answer.expires_in * 1000),
              credentials: { token: credentials.token, refreshToken: answer.refresh_token, accessToken: answer.access_token },
            };
          },
        };
      },
    };
  }

  const stored = async (connectionId: string) => {
    const { rows } = await db.pool.query('SELECT credentials_encrypted, status, last_error FROM import_connections WHERE id = $1', [connectionId]);
    return { credentials: JSON.parse(decryptSecret(TEST_SECRETS_KEY, rows[0].credentials_encrypted, connectionId)), status: rows[0].status, lastError: rows[0].last_error };
  };

  it('gets a token first, refreshes once on a 401, and keeps each rotated refresh token sealed', async () => {
    state.refreshTokens.set('r1', 'r2');
    const script = oauthScript();
    const { connection } = await setUp(script, { token: 't', refreshToken: 'r1' });
    script.beforePage = async (client, signal) => {
      await client.get('/ping', { signal });
      // The provider revokes the access token once mid-run: one refresh, then the run goes on.
      if (state.tokenCalls.length === 1) state.unauthorizedOnce = true;
    };
    const result = await run(connection.id, script, url);
    expect(result.outcome.status).toBe('succeeded');
    expect(state.tokenCalls).toEqual(['r1', 'r2']);
    const after = await stored(connection.id);
    expect(after.credentials).toEqual({ token: 't', refreshToken: 'r11', accessToken: 'a2' });
    expect(after.status).toBe('active');
    // The next run starts from the saved access token: no token call while it is valid.
    expect((await run(connection.id, oauthScript(), url)).outcome.status).toBe('succeeded');
    expect(state.tokenCalls).toEqual(['r1', 'r2']);
  });

  it('a refused refresh (invalid_grant) asks for re-authorisation with the provider\'s words', async () => {
    const script = oauthScript();
    const { connection } = await setUp(script, { token: 't', refreshToken: 'revoked' });
    const result = await run(connection.id, script, url);
    expect(result.outcome).toMatchObject({ status: 'needs_reauth', error: 'invalid_grant: expired access/refresh token' });
    expect(await stored(connection.id)).toMatchObject({ status: 'needs_reauth', lastError: 'invalid_grant: expired access/refresh token', credentials: { refreshToken: 'revoked' } });
  });

  it('a 401 that survives a fresh token asks for re-authorisation', async () => {
    state.refreshTokens.set('s1', 's2');
    const script = oauthScript();
    const { connection } = await setUp(script, { token: 't', refreshToken: 's1' });
    state.refuseAll = true; // every access token is refused, even a fresh one
    const calls = state.tokenCalls.length;
    const result = await run(connection.id, script, url).finally(() => (state.refuseAll = false));
    expect(result.outcome).toMatchObject({ status: 'needs_reauth', error: 'invalid_token: The access token is invalid or has expired' });
    // One token to start with, one refresh after the 401, then no more.
    expect(state.tokenCalls.slice(calls)).toEqual(['s1', 's2']);
  });
});

describe('the scheduler tick, called directly', () => {
  it('starts a run for each due connection once, and gives a job back to a run whose worker died', async () => {
    const { startJobs } = await import('../src/queue/boss.ts');
    const { scheduleImports } = await import('../src/import/start-run.ts');
    const { acquireLease } = await import('../src/import/runs.ts');
    const jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
    try {
      const due = await setUp(baseScript());
      const later = await setUp(baseScript());
      await db.pool.query(`UPDATE import_connections SET next_run_at = now() - interval '1 second' WHERE id = $1`, [due.connection.id]);
      await db.pool.query(`UPDATE import_connections SET next_run_at = now() + interval '1 hour' WHERE id = $1`, [later.connection.id]);
      const first = await scheduleImports(db.pool, jobs.boss, 1_000);
      const { rows: runs } = await db.pool.query(`SELECT id, connection_id FROM import_runs WHERE connection_id = ANY($1)`, [[due.connection.id, later.connection.id]]);
      expect(runs.map((r) => r.connection_id)).toEqual([due.connection.id]);
      expect(first.started).toContain(runs[0].id);
      // A second tick while that run is active starts nothing more.
      expect((await scheduleImports(db.pool, jobs.boss, 1_000)).started).not.toContain(runs[0].id);
      const jobsFor = async (runId: string) => (await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'import-run' AND data->>'runId' = $1`, [runId])).rows[0].n;
      expect(await jobsFor(runs[0].id)).toBe(1);
      // A worker takes the run and dies: once its lease has lapsed, the tick sends the run a new job.
      expect(await acquireLease(db.pool, runs[0].id, 'dead-worker', 50)).not.toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect((await scheduleImports(db.pool, jobs.boss, 50)).reclaimed).toContain(runs[0].id);
      expect(await jobsFor(runs[0].id)).toBe(2);
    } finally {
      await jobs.stop();
    }
  });
});
