import { randomBytes } from 'node:crypto';
import { isDatabaseUnavailable, withTransaction, type Pool } from '../db/pool.ts';
import type { HttpTuning, ImportAdapter, ImportStream, StreamContext } from './adapter.ts';
import { afterRun, markNeedsReauth, openConnection, saveRotatedCredentials, type ImportConnection } from './connections.ts';
import { openSession, type OpenedSession } from './open-session.ts';
import { mergeCounts, type RunCounts } from './counts.ts';
import { AuthError, coerceError, CursorError, errorDisposition, RetryLaterError } from './errors.ts';
import { importAttachmentBlobs } from '../domain/attachments.ts';
import { fetchAttachments, type StoreBlobs } from './fetch-attachments.ts';
import { LedgerConflictError, lookupLedger, ledgerKey, type LedgerScope } from './ledger.ts';
import { refreshImportStatistics, writePage } from './page-writer.ts';
import { acquireLease, checkpoint, finishRun, LeaseLostError, loadCursor, parkRun, releaseLease, renewLease, type ImportRun, type StreamProgress } from './runs.ts';

/**
 * Executes one import run, or the next slice of it: takes the run's lease, walks the adapter's
 * streams in order from their committed cursors, and commits each page with its cursor. Network
 * I/O happens outside any transaction. Never sleeps for long: a rate limit or outage parks the
 * run with the time to come back, and a slice ends after `sliceMs` so jobs stay short.
 */

export type ExecuteDeps = {
  pool: Pool;
  secretsKey: Buffer;
  adapters: Readonly<Record<string, ImportAdapter<any, any>>>;
  /** Who holds the lease: unique per worker process. */
  owner: string;
  leaseMs: number;
  /** Time after which the run continues in a new job; Infinity runs to the end. */
  sliceMs: number;
  userAgent: string;
  /** Provider connections may reach loopback and private addresses (tests, the demo, sandboxes). */
  allowPrivate: boolean;
  http?: HttpTuning | undefined;
  signal?: AbortSignal | undefined;
  /** Called after each committed page (the CLI's progress bar). */
  onPage?: ((info: { stream: string; counts: RunCounts; progress: Record<string, StreamProgress> }) => void) | undefined;
};

export type ExecuteOutcome =
  | { status: 'succeeded' | 'failed' | 'needs_reauth' | 'cancelled'; error?: string | undefined }
  | { status: 'waiting'; retryAt: Date; error: string }
  | { status: 'continue' }
  /** Another live worker holds the run. */
  | { status: 'busy' };

export async function executeRun(input: ExecuteDeps, runId: string): Promise<ExecuteOutcome> {
  // One lease holder per execution: two jobs of one process never both pass the lease check.
  const deps = { ...input, owner: `${input.owner}/${randomBytes(4).toString('hex')}` };
  const run = await acquireLease(deps.pool, runId, deps.owner, deps.leaseMs);
  if (!run) return { status: 'busy' };
  const abort = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, abort.signal]) : abort.signal;
  let heartbeat: NodeJS.Timeout | undefined;
  let opened: OpenedSession | undefined;
  let connection: ImportConnection | undefined;
  try {
    const stored = await openConnection(deps.pool, deps.secretsKey, run.connectionId);
    if (!stored || stored.connection.status !== 'active') {
      const status = stored?.connection.status === 'needs_reauth' ? 'needs_reauth' : 'cancelled';
      const error = stored?.connection.lastError ?? `the connection is ${stored?.connection.status ?? 'gone'}`;
      await finishRun(deps.pool, run.id, deps.owner, status, error);
      return { status, error };
    }
    const active = stored.connection;
    connection = active;
    const adapter = deps.adapters[active.provider];
    if (!adapter) throw new Error(`no importer for provider ${active.provider}`);
    opened = openSession(adapter, {
      credentials: adapter.credentialsSchema.parse(stored.credentials),
      settings: adapter.settingsSchema.parse(active.settings),
      userAgent: deps.userAgent,
      http: { ...deps.http, allowPrivateAddresses: deps.allowPrivate },
      onCredentials: (credentials) => saveRotatedCredentials(deps.pool, deps.secretsKey, active.id, credentials),
    });
    // The heartbeat keeps the lease while a slow page is fetched; losing it stops this worker at once.
    heartbeat = setInterval(() => {
      renewLease(deps.pool, run.id, deps.owner, deps.leaseMs).catch((err: unknown) => abort.abort(coerceError(err)));
    }, Math.max(100, Math.floor(deps.leaseMs / 3)));
    return await walkStreams(deps, run, active, adapter, opened, signal);
  } catch (caught) {
    return await settleFailure(deps, run, connection, caught, abort.signal);
  } finally {
    clearInterval(heartbeat);
    // Fetches still in flight (a prefetched page, sibling downloads of a failed one) stop with the run.
    abort.abort(new Error('the run slice ended'));
    opened?.close();
  }
}

async function walkStreams(
  deps: ExecuteDeps,
  run: ImportRun,
  connection: ImportConnection,
  adapter: ImportAdapter<any, any>,
  opened: OpenedSession,
  signal: AbortSignal,
): Promise<ExecuteOutcome> {
  const { streams } = opened.session;
  const scope: LedgerScope = { workspaceId: run.workspaceId, provider: connection.provider, account: connection.account, connectionId: connection.id, runId: run.id };
  const counts: RunCounts = structuredClone(run.counts);
  const progress: Record<string, StreamProgress> = structuredClone(run.progress);
  const sliceEnds = Date.now() + deps.sliceMs;
  const ctx: StreamContext = {
    signal,
    known: async (recordType, ids) => {
      const found = await lookupLedger(deps.pool, scope, ids.map((id) => [recordType, id]));
      return new Map(ids.flatMap((id) => {
        const entry = found.get(ledgerKey(recordType, id));
        return entry ? [[id, entry] as const] : [];
      }));
    },
  };
  const storeBlobs: StoreBlobs = (blobs) => importAttachmentBlobs({ db: deps.pool, workspaceId: run.workspaceId, origin: 'import' }, blobs);
  let committed = 0;
  let analyzing: Promise<void> | undefined;
  try {
    return await walkPages();
  } finally {
    await analyzing;
  }

  async function walkPages(): Promise<ExecuteOutcome> {
    for (const stream of streams) {
      const state = (progress[stream.name] ??= { pages: 0, done: false });
      if (state.done) continue;
      const cursor = checkedCursor(stream, await loadCursor(deps.pool, connection.id, stream.name));
      // The next page (with its attachments) is fetched while this one is written: network and
      // database overlap. The writer checks the ledger itself, so a prefetch that ran before the
      // last commit is harmless. A fetched page holds no file bytes: they are stored as they come
      // (content-addressed, outside the page's transaction) within the process's byte budget.
      const fetchPage = async (at: unknown) => fetchAttachments(opened.client, await stream.nextPage(at, ctx), ctx, storeBlobs);
      let next = prefetch(fetchPage(cursor));
      for (;;) {
        if (Date.now() >= sliceEnds) {
          await releaseLease(deps.pool, run.id, deps.owner);
          return { status: 'continue' };
        }
        signal.throwIfAborted();
        const page = await next;
        next = page.done ? prefetch(Promise.resolve(page)) : prefetch(fetchPage(page.cursor));
        await withTransaction(deps.pool, async (tx) => {
          const result = await writePage(tx, scope, stream.name, page, adapter.countNames);
          const nextCounts = mergeCounts(structuredClone(counts), result.counts);
          const nextProgress = { ...progress, [stream.name]: { pages: state.pages + 1, done: page.done } };
          await checkpoint(tx, run, deps.owner, deps.leaseMs, { stream: stream.name, cursor: page.cursor, counts: nextCounts, progress: nextProgress });
          // Only after commit does the in-memory state move on (a rolled-back page is read again).
          return () => {
            mergeCounts(counts, result.counts);
            state.pages += 1;
            state.done = page.done;
          };
        }).then((apply) => apply());
        committed += 1;
        // Statistics after pages 1, 2, 4, 8, ...: always within a factor of two of the tables' size.
        // In the background: on a large database ANALYZE takes seconds the pipeline should not wait for.
        if ((committed & (committed - 1)) === 0) analyzing ??= refreshImportStatistics(deps.pool).finally(() => (analyzing = undefined));
        deps.onPage?.({ stream: stream.name, counts, progress });
        if (page.done) break;
      }
    }
    await finishRun(deps.pool, run.id, deps.owner, 'succeeded', null);
    await afterRun(deps.pool, connection.id, { succeeded: true, fullRun: run.kind === 'full', error: null });
    return { status: 'succeeded' };
  }
}

/** A stored cursor this release can read, or a clear refusal; null is the very start. */
function checkedCursor(stream: ImportStream, stored: unknown): unknown {
  if (stored === null || stored === undefined) return null;
  const parsed = stream.cursorSchema.safeParse(stored);
  if (parsed.success) return parsed.data;
  throw new CursorError(`the stored cursor of stream "${stream.name}" is not one this release can read (${parsed.error.issues[0]?.message ?? 'bad shape'}): ${JSON.stringify(stored).slice(0, 200)}`);
}

/** A page fetched ahead: its failure is reported when it is awaited, never as an unhandled rejection. */
function prefetch<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Database errors worth another try in a moment: deadlocks, serialisation failures, lock and statement timeouts. */
const TRANSIENT_SQLSTATES = new Set(['40P01', '40001', '55P03', '57014']);

/** The error handler: park and come back, ask for re-authorisation, or fail the run. */
async function settleFailure(deps: ExecuteDeps, run: ImportRun, connection: ImportConnection | undefined, caught: unknown, ours: AbortSignal): Promise<ExecuteOutcome> {
  const err = coerceError(caught);
  // The database itself is gone: nothing can be recorded; the job's retry resumes from the last page.
  if (isDatabaseUnavailable(err)) throw err;
  if (deps.signal?.aborted) {
    // Shutting down: hand the run back so the next worker resumes it at once.
    await releaseLease(deps.pool, run.id, deps.owner);
    return { status: 'continue' };
  }
  if (err instanceof LeaseLostError || (ours.aborted && ours.reason instanceof LeaseLostError)) {
    // Another worker owns the run now (this one was presumed dead): leave everything to it.
    return { status: 'busy' };
  }
  if (err instanceof LedgerConflictError || TRANSIENT_SQLSTATES.has(String((err as { code?: unknown }).code)) || ours.aborted) {
    const retryAt = new Date(Date.now() + 1_000);
    await parkRun(deps.pool, run.id, deps.owner, retryAt, err.message);
    return { status: 'waiting', retryAt, error: err.message };
  }
  const disposition = errorDisposition(err);
  if (disposition === 'retry_later') {
    const retryAt = (err as RetryLaterError).retryAt;
    await parkRun(deps.pool, run.id, deps.owner, retryAt, err.message);
    return { status: 'waiting', retryAt, error: err.message };
  }
  const fullRun = run.kind === 'full';
  if (disposition === 'needs_reauth' && connection) {
    const message = (err as AuthError).providerMessage ?? err.message;
    await finishRun(deps.pool, run.id, deps.owner, 'needs_reauth', message);
    await afterRun(deps.pool, connection.id, { succeeded: false, fullRun, error: message });
    await markNeedsReauth(deps.pool, connection.id, message);
    return { status: 'needs_reauth', error: message };
  }
  await finishRun(deps.pool, run.id, deps.owner, 'failed', err.message);
  if (connection) await afterRun(deps.pool, connection.id, { succeeded: false, fullRun, error: err.message });
  return { status: 'failed', error: err.message };
}
