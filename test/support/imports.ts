import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { IMPORT_ADAPTERS } from '../../importers/index.ts';
import type { Queryable } from '../../src/db/pool.ts';
import { buildApp } from '../../src/http/app.ts';
import { createConnection } from '../../src/import/connections.ts';
import { executeRun, type ExecuteDeps, type ExecuteOutcome } from '../../src/import/execute-run.ts';
import { createRun } from '../../src/import/runs.ts';
import { startJobs } from '../../src/queue/boss.ts';
import { DEFAULT_ZENDESK_AUTH } from './fake-provider/index.ts';
import { TEST_SECRETS_KEY } from './workspaces.ts';

export const ZENDESK_CREDENTIALS = { email: DEFAULT_ZENDESK_AUTH.email, apiToken: DEFAULT_ZENDESK_AUTH.apiToken };

/** A Zendesk connection pointed at the fake provider. */
export async function connectZendesk(db: Queryable, workspaceId: string, baseUrl: string, settings: Record<string, unknown> = {}) {
  return createConnection(db, TEST_SECRETS_KEY, {
    workspaceId,
    provider: 'zendesk',
    account: 'acme',
    credentials: ZENDESK_CREDENTIALS,
    settings: { subdomain: 'acme', baseUrl, ...settings },
    scheduleSeconds: 300,
  });
}

export function executeDeps(pool: pg.Pool, overrides: Partial<ExecuteDeps> = {}): ExecuteDeps {
  return {
    pool,
    secretsKey: TEST_SECRETS_KEY,
    adapters: IMPORT_ADAPTERS,
    owner: `test-${process.pid}-${Math.random().toString(36).slice(2)}`,
    leaseMs: 10_000,
    sliceMs: Number.POSITIVE_INFINITY,
    userAgent: 'intake-test',
    allowPrivate: true,
    ...overrides,
  };
}

/**
 * Creates a run for the connection and drives it to its end in this process, as the job worker
 * would: a slice that ends continues, a parked run is resumed when its time comes.
 */
export async function runImport(pool: pg.Pool, connectionId: string, overrides: Partial<ExecuteDeps> = {}): Promise<{ runId: string; outcome: ExecuteOutcome; outcomes: ExecuteOutcome[] }> {
  const run = await createRun(pool, connectionId);
  if (!run) throw new Error(`connection ${connectionId} already has an active run`);
  const deps = executeDeps(pool, overrides);
  const outcomes: ExecuteOutcome[] = [];
  for (let i = 0; i < 500; i++) {
    const outcome = await executeRun(deps, run.id);
    outcomes.push(outcome);
    if (outcome.status === 'waiting') await sleep(Math.max(0, outcome.retryAt.getTime() - Date.now()));
    else if (outcome.status === 'busy') await sleep(100);
    else if (outcome.status !== 'continue') return { runId: run.id, outcome, outcomes };
  }
  throw new Error('the run did not end');
}

/**
 * Everything an import wrote, without our ids or write times: source ids (through the ledger)
 * name the rows, so two databases that imported the same data compare equal.
 */
export async function canonicalDump(db: Queryable, workspaceId: string) {
  const q = async (sql: string) => (await db.query(sql, [workspaceId])).rows;
  return {
    customers: await q(`SELECT c.email, c.full_name, co.domain AS company, c.origin, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS created
                          FROM customers c LEFT JOIN companies co ON co.id = c.company_id WHERE c.workspace_id = $1 ORDER BY c.email NULLS LAST, c.full_name`),
    companies: await q(`SELECT domain, name, origin FROM companies WHERE workspace_id = $1 ORDER BY domain`),
    labels: await q(`SELECT name, origin FROM labels WHERE workspace_id = $1 ORDER BY lower(name)`),
    tenants: await q(`SELECT t.external_id, t.name, (SELECT array_agg(coalesce(c.email, c.full_name) ORDER BY c.email) FROM tenant_customers tc JOIN customers c ON c.id = tc.customer_id WHERE tc.tenant_id = t.id) AS members
                        FROM tenants t WHERE t.workspace_id = $1 ORDER BY t.external_id`),
    threads: await q(`SELECT l.source_id AS ticket, t.title, t.status, t.channel, coalesce(c.email, c.full_name) AS customer,
                             to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS created,
                             to_char(t.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS updated,
                             (SELECT array_agg(lb.name ORDER BY lower(lb.name)) FROM thread_labels tl JOIN labels lb ON lb.id = tl.label_id WHERE tl.thread_id = t.id) AS labels
                        FROM threads t JOIN import_ledger l ON l.entity_id = t.id AND l.source_type = 'thread'
                        JOIN customers c ON c.id = t.customer_id
                       WHERE t.workspace_id = $1 ORDER BY l.source_id::bigint`),
    entries: await q(`SELECT l.source_id AS comment, tl.source_id AS ticket, e.kind, e.author_type,
                             coalesce(c.email, c.full_name, e.author_email, e.author_name) AS author, e.text,
                             to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS created
                        FROM timeline_entries e JOIN import_ledger l ON l.entity_id = e.id AND l.source_type = 'entry'
                        JOIN import_ledger tl ON tl.entity_id = e.thread_id AND tl.source_type = 'thread'
                        LEFT JOIN customers c ON c.id = e.author_customer_id
                       WHERE e.workspace_id = $1 ORDER BY l.source_id::bigint`),
    attachments: await q(`SELECT l.source_id AS comment, a.position, a.file_name, a.content_type, a.size, a.sha256, a.inline, a.status, a.code
                            FROM attachments a JOIN import_ledger l ON l.entity_id = a.timeline_entry_id AND l.source_type = 'entry'
                           WHERE a.workspace_id = $1 ORDER BY l.source_id::bigint, a.position`),
    totals: (await q(`SELECT (SELECT count(*)::int FROM customers WHERE workspace_id = $1) AS customers,
                             (SELECT count(*)::int FROM threads WHERE workspace_id = $1) AS threads,
                             (SELECT count(*)::int FROM timeline_entries WHERE workspace_id = $1) AS entries,
                             (SELECT count(*)::int FROM thread_labels WHERE workspace_id = $1) AS thread_labels,
                             (SELECT count(*)::int FROM attachments WHERE workspace_id = $1) AS attachments,
                             (SELECT count(*)::int FROM import_ledger WHERE workspace_id = $1) AS ledger`))[0],
  };
}

/** What an import must never cause. */
export async function eventsOut(db: Queryable) {
  const { rows } = await db.query(`SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM webhook_deliveries) AS deliveries,
                                          (SELECT count(*)::int FROM auto_response_sends) AS auto_responses`);
  return rows[0] as { events: number; deliveries: number; auto_responses: number };
}

/** The import API on a test database: the real app with pg-boss, every importer, private addresses allowed (the fakes are on loopback). */
export async function startImportApi(db: { url: string; pool: pg.Pool }): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  const jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
  const app = await buildApp({ pool: db.pool, boss: jobs.boss, inboundDomain: 'in.test', secretsKey: TEST_SECRETS_KEY, importAdapters: IMPORT_ADAPTERS, importAllowPrivate: true });
  return {
    app,
    async close() {
      await app.close();
      await jobs.stop();
    },
  };
}
