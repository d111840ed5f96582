import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { IMPORT_ADAPTERS } from '../../importers/index.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { InputError } from '../domain/input-error.ts';
import { checkConnectionInput, connectProvider } from '../import/connect.ts';
import { ConnectionExistsError, findLiveConnection, listAllConnections, replaceCredentials, type ImportConnection } from '../import/connections.ts';
import type { RunCounts } from '../import/counts.ts';
import { executeRun } from '../import/execute-run.ts';
import { activeRun, createRun, getRun, latestRuns, listRecordErrors, type ImportRun, type StreamProgress } from '../import/runs.ts';
import { IMPORT_USER_AGENT } from '../import/user-agent.ts';
import { startJobs } from '../jobs/boss.ts';
import { startRun, workerName } from '../jobs/import-worker.ts';
import { resolveLocalSecrets } from '../local-secrets.ts';
import { withDatabase } from './commands.ts';

export type ZendeskImportOptions = {
  workspace: string;
  subdomain: string;
  email?: string;
  token?: string;
  oauthToken?: string;
  baseUrl?: string;
  pageSize?: string;
  scheduleMinutes?: string;
  once?: boolean;
  json?: boolean;
};

const TERMINAL = new Set(['succeeded', 'failed', 'needs_reauth', 'cancelled']);

/**
 * `intake import zendesk ...`: connects (or reuses the workspace's connection to that subdomain,
 * with the credentials given), then either queues a run for the service or, with --once, runs it
 * here in the foreground to its end. Exit code 0 only when the run succeeded.
 */
export async function importZendeskCommand(config: Config, o: ZendeskImportOptions): Promise<number> {
  const credentials = o.oauthToken ? { oauthToken: o.oauthToken } : { email: o.email, apiToken: o.token };
  if (!o.oauthToken && (!o.email || !o.token)) {
    throw new InputError('Missing credentials', [{ field: 'credentials', message: 'give --email and --token (API token), or --oauth-token', type: 'REQUIRED' }]);
  }
  const settings: Record<string, unknown> = { subdomain: o.subdomain };
  if (o.baseUrl) settings.baseUrl = o.baseUrl;
  if (o.pageSize) settings.pageSize = Number(o.pageSize);
  const secrets = await resolveLocalSecrets(config);
  return withDatabase(
    config,
    async (db) => {
      const input = { provider: 'zendesk', credentials, settings, scheduleSeconds: Number(o.scheduleMinutes ?? 5) * 60 };
      // The operator's own command line may point at a local server (the fake provider, a sandbox).
      const checks = { allowPrivate: true, userAgent: IMPORT_USER_AGENT };
      const connection = await connectOrReuse(db, secrets.secretsKey, o.workspace, input, checks);
      if (!o.once) return queueRun(db, connection, o.json === true);
      return runInForeground(config, db, secrets.secretsKey, connection, o.json === true);
    },
    4,
  );
}

async function connectOrReuse(
  db: Database,
  secretsKey: Buffer,
  workspaceId: string,
  input: { provider: string; credentials: unknown; settings: Record<string, unknown>; scheduleSeconds: number },
  checks: { allowPrivate: boolean; userAgent: string },
): Promise<ImportConnection> {
  const existing = await findLiveConnection(db.pool, workspaceId, input.provider, String(input.settings.subdomain).toLowerCase());
  if (existing) {
    // Same account again: the credentials given are checked and kept (a re-authorisation).
    const checked = await checkConnectionInput(IMPORT_ADAPTERS, { ...input, settings: existing.settings }, checks);
    await replaceCredentials(db.pool, secretsKey, existing.id, checked.credentials);
    return existing;
  }
  try {
    return await connectProvider(db.pool, secretsKey, IMPORT_ADAPTERS, workspaceId, input, checks);
  } catch (err) {
    if (!(err instanceof ConnectionExistsError)) throw err;
    // Another command connected the same account a moment ago: use that one.
    return (await findLiveConnection(db.pool, workspaceId, input.provider, String(input.settings.subdomain).toLowerCase()))!;
  }
}

async function runFor(db: Database, connectionId: string): Promise<{ run: ImportRun; created: boolean }> {
  const created = await createRun(db.pool, connectionId);
  if (created) return { run: created, created: true };
  const active = await activeRun(db.pool, connectionId);
  if (!active) throw new Error(`connection ${connectionId} is not active and has no run`);
  return { run: active, created: false };
}

async function queueRun(db: Database, connection: ImportConnection, json: boolean): Promise<number> {
  const jobs = await startJobs(db.url, { onError: (err) => console.error(`job queue error: ${err.message}`), supervise: false, schedule: false });
  try {
    const run = (await startRun(db.pool, jobs.boss, connection.id)) ?? (await activeRun(db.pool, connection.id));
    const out = { connectionId: connection.id, runId: run?.id ?? null, status: run?.status ?? null };
    if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else console.log(`Connection ${connection.id}: run ${out.runId} is ${out.status}; a running \`intake start\` executes it (see \`intake import status\`).`);
    return 0;
  } finally {
    await jobs.stop();
  }
}

async function runInForeground(config: Config, db: Database, secretsKey: Buffer, connection: ImportConnection, json: boolean): Promise<number> {
  const { run } = await runFor(db, connection.id);
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = !json && process.stdout.isTTY ? progressBars() : undefined;
  const log = (line: string) => {
    if (!json) (bar ? bar.log(line) : console.error(line));
  };
  log(`Importing from Zendesk (${connection.account}) into workspace ${connection.workspaceId}: run ${run.id}`);
  const deps = {
    pool: db.pool,
    secretsKey,
    adapters: IMPORT_ADAPTERS,
    owner: workerName(),
    leaseMs: config.importLeaseSeconds * 1000,
    sliceMs: Number.POSITIVE_INFINITY,
    userAgent: IMPORT_USER_AGENT,
    allowPrivate: true,
    signal: stop.signal,
    onPage: bar ? (p: { counts: RunCounts; progress: Record<string, StreamProgress> }) => bar.update(p.counts, p.progress) : undefined,
  };
  let toldBusy = false;
  try {
    for (;;) {
      const outcome = await executeRun(deps, run.id);
      if (stop.signal.aborted) {
        log('Interrupted: the run resumes from its last page next time.');
        return 130;
      }
      if (outcome.status === 'waiting') {
        log(`Waiting until ${outcome.retryAt.toISOString()}: ${outcome.error}`);
        await sleep(Math.max(0, outcome.retryAt.getTime() - Date.now()), undefined, { signal: stop.signal }).catch(() => undefined);
        continue;
      }
      if (outcome.status === 'busy') {
        // Another worker holds the run (or held it and died: its lease runs out).
        const current = await getRun(db.pool, connection.workspaceId, run.id);
        if (current && TERMINAL.has(current.status)) break;
        if (!toldBusy) log(`Run ${run.id} is held by another worker (or by one that died, until its ${config.importLeaseSeconds} s lease runs out): waiting.`);
        toldBusy = true;
        await sleep(500);
        continue;
      }
      if (outcome.status !== 'continue') break;
    }
  } finally {
    bar?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const final = (await getRun(db.pool, connection.workspaceId, run.id))!;
  const errors = await listRecordErrors(db.pool, connection.workspaceId, run.id, 20);
  if (json) {
    process.stdout.write(`${JSON.stringify({ connectionId: connection.id, runId: final.id, status: final.status, streams: final.counts, recordErrors: errors.total, error: final.error })}\n`);
  } else {
    console.log(summary(final, errors.total, errors.errors));
  }
  return final.status === 'succeeded' ? 0 : 1;
}

function progressBars() {
  const multi = new cliProgress.MultiBar(
    { format: ' {stream} |{bar}| {pages} pages | {created} created, {linked} linked, {skipped} skipped, {failed} failed', hideCursor: true, clearOnComplete: false, barsize: 20 },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    log: (line: string) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
    update(counts: RunCounts, progress: Record<string, StreamProgress>) {
      for (const [stream, p] of Object.entries(progress)) {
        // Exports announce no totals: a stream's bar fills when it ends.
        const c = counts[stream] ?? { created: 0, linked: 0, skipped: 0, failed: 0 };
        const payload = { stream: stream.padEnd(13), pages: p.pages, ...c };
        let bar = bars.get(stream);
        if (!bar) bars.set(stream, (bar = multi.create(1, 0, payload)));
        bar.update(p.done ? 1 : 0.5, payload);
      }
    },
  };
}

/** One line per stream: what a run created, linked, skipped and failed. */
function countLines(counts: RunCounts, indent: string): string[] {
  return Object.entries(counts).map(([stream, c]) => `${indent}${stream.padEnd(14)} ${c.created} created, ${c.linked} linked, ${c.skipped} skipped, ${c.failed} failed`);
}

function summary(run: ImportRun, errorTotal: number, errors: Array<{ recordType: string; sourceId: string; reason: string }>): string {
  const lines = [`Run ${run.id}: ${run.status}${run.error ? ` (${run.error})` : ''}`];
  lines.push(...countLines(run.counts, '  '));
  if (errorTotal > 0) {
    lines.push(`  ${errorTotal} record error(s):`);
    for (const e of errors) lines.push(`    ${e.recordType} ${e.sourceId}: ${e.reason}`);
  }
  return lines.join('\n');
}

/** `intake import status`: every connection with its latest run. */
export async function importStatusCommand(config: Config, o: { workspace?: string; json?: boolean }): Promise<number> {
  return withDatabase(config, async (db) => {
    const rows = await listAllConnections(db.pool, o.workspace ?? null);
    const latest = await latestRuns(db.pool, rows.map((r) => r.id));
    const list = rows.map((c) => {
      const r = latest.get(c.id);
      return {
        connectionId: c.id,
        workspaceId: c.workspaceId,
        provider: c.provider,
        account: c.account,
        status: c.status,
        lastError: c.lastError,
        nextRunAt: c.nextRunAt?.toISOString() ?? null,
        latestRun: r ? { id: r.id, kind: r.kind, status: r.status, streams: r.counts, startedAt: r.startedAt?.toISOString() ?? null, finishedAt: r.finishedAt?.toISOString() ?? null, error: r.error } : null,
      };
    });
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ connections: list })}\n`);
      return 0;
    }
    if (list.length === 0) console.log('No import connections.');
    for (const c of list) {
      console.log(`${c.connectionId}  ${c.provider}/${c.account}  workspace ${c.workspaceId}  ${c.status}${c.lastError ? ` (${c.lastError})` : ''}`);
      if (c.latestRun) {
        console.log(`  latest run ${c.latestRun.id} (${c.latestRun.kind}): ${c.latestRun.status}${c.latestRun.error ? ` (${c.latestRun.error})` : ''}`);
        for (const line of countLines(c.latestRun.streams, '    ')) console.log(line);
      }
      if (c.nextRunAt) console.log(`  next run at ${c.nextRunAt}`);
    }
    return 0;
  });
}
