import { setTimeout as sleep } from 'node:timers/promises';
import { IMPORT_ADAPTERS } from '../../importers/index.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { InputError } from '../domain/input-error.ts';
import type { ImportConnection } from '../import/connections.ts';
import type { RunCounts } from '../import/counts.ts';
import { executeRun } from '../import/execute-run.ts';
import { activeRun, createRun, getRun, listRecordErrors, type ImportRun, type StreamProgress } from '../import/runs.ts';
import { operatorImportDeps } from './import-deps.ts';
import { startJobs } from '../queue/boss.ts';
import { startRun, workerName } from '../import/start-run.ts';
import { EXIT } from './exit-codes.ts';
import { progressBars, summary } from './import-progress.ts';

/** A connection's run, queued for the service or executed here: what `connect`, `run` and the `zendesk` alias end with. */

const TERMINAL = new Set(['succeeded', 'failed', 'needs_reauth', 'cancelled']);

function notRunnable(connection: ImportConnection): InputError {
  return new InputError(`Connection ${connection.id} cannot run`, [
    { field: 'connectionId', message: 'it is not active (disconnected, or waiting for new credentials: connect the account again); see `intake import status`', type: 'VALIDATION' },
  ]);
}

/** A new run, or the one already active (a second command joins it rather than starting another). */
async function runFor(db: Database, connection: ImportConnection): Promise<ImportRun> {
  const created = await createRun(db.pool, connection.id);
  if (created) return created;
  const active = await activeRun(db.pool, connection.id);
  if (!active) throw notRunnable(connection);
  return active;
}

/** Queues a run (or reports the active one) for a running `intake start` to execute. */
export async function queueRun(db: Database, connection: ImportConnection, json: boolean): Promise<number> {
  const jobs = await startJobs(db.url, { onError: (err) => console.error(`job queue error: ${err.message}`), supervise: false, schedule: false });
  try {
    const run = (await startRun(db.pool, jobs.boss, connection.id)) ?? (await activeRun(db.pool, connection.id));
    if (!run) throw notRunnable(connection);
    const out = { connectionId: connection.id, runId: run.id, status: run.status };
    if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else console.log(`Connection ${connection.id}: run ${out.runId} is ${out.status}; a running \`intake start\` executes it (see \`intake import status\`).`);
    return EXIT.ok;
  } finally {
    await jobs.stop();
  }
}

/** Executes the run here to its end (waiting out rate limits and other workers' leases); 0 only when it succeeded. */
export async function runInForeground(config: Config, db: Database, secretsKey: Buffer, connection: ImportConnection, json: boolean): Promise<number> {
  const run = await runFor(db, connection);
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = !json && process.stdout.isTTY ? progressBars() : undefined;
  const log = (line: string) => {
    if (!json) (bar ? bar.log(line) : console.error(line));
  };
  const name = IMPORT_ADAPTERS[connection.provider]?.displayName ?? connection.provider;
  log(`Importing from ${name} (${connection.account}) into workspace ${connection.workspaceId}: run ${run.id}`);
  const deps = {
    ...operatorImportDeps(config, db.pool, secretsKey),
    owner: workerName(),
    signal: stop.signal,
    onPage: bar ? (p: { counts: RunCounts; progress: Record<string, StreamProgress> }) => bar.update(p.counts, p.progress) : undefined,
  };
  let toldBusy = false;
  try {
    for (;;) {
      const outcome = await executeRun(deps, run.id);
      if (stop.signal.aborted) {
        log('Interrupted: the run resumes from its last page next time.');
        return EXIT.interrupted;
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
  return final.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}
