import type { StreamCounts } from '../import/counts.ts';
import { ACTIVE_RUN_STATUSES, type ImportRun } from '../import/runs.ts';

/**
 * What the progress bars of one run show: a row per stream the engine reported (pages, done)
 * and per record type it counted, with the run's rate. Providers' exports announce no totals,
 * so a bar is indeterminate until its stream ends, and an ETA is given only where a stream's
 * progress carries a `total`.
 */

export type StreamRow = StreamCounts & {
  name: string;
  /** Pages read, for the engine's streams; null for a record type counted within another stream. */
  pages: number | null;
  state: 'done' | 'running' | 'stopped';
  processed: number;
  /** Records per second over the run so far. */
  rate: number | null;
  eta: string;
  /** Widths (0-100) of the created/linked/skipped/failed parts of the composition bar. */
  parts: StreamCounts;
};

export type RunView = {
  id: string;
  kind: string;
  status: string;
  active: boolean;
  error: string | null;
  retryAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  elapsedSeconds: number | null;
  processed: number;
  rate: number | null;
  rows: StreamRow[];
};

const ZERO: StreamCounts = { created: 0, linked: 0, skipped: 0, failed: 0 };

export function runView(run: ImportRun, now = new Date()): RunView {
  const active = ACTIVE_RUN_STATUSES.includes(run.status);
  const elapsed = run.startedAt ? Math.max(0, ((run.finishedAt ?? now).getTime() - run.startedAt.getTime()) / 1000) : null;
  const perSecond = (n: number) => (elapsed && elapsed >= 1 ? n / elapsed : null);
  // Streams in the order the engine reached them (done ones came first), then counted record types.
  const streams = Object.entries(run.progress).sort(([, a], [, b]) => Number(b.done) - Number(a.done));
  const names = [...streams.map(([n]) => n), ...Object.keys(run.counts).filter((n) => !(n in run.progress)).sort()];
  const rows = names.map((name): StreamRow => {
    const c = { ...ZERO, ...run.counts[name] };
    const p = run.progress[name] as { pages: number; done: boolean; total?: unknown } | undefined;
    const processed = c.created + c.linked + c.skipped + c.failed;
    const state = p?.done || run.status === 'succeeded' ? 'done' : active ? 'running' : 'stopped';
    const rate = perSecond(processed);
    const total = typeof p?.total === 'number' ? p.total : null;
    const eta = state === 'done' ? 'done' : state === 'stopped' ? '—' : total !== null && rate ? formatSeconds(Math.max(0, total - processed) / rate) : 'unknown (no total announced)';
    const pct = (n: number) => (processed ? Math.round((n / processed) * 1000) / 10 : 0);
    return { name, ...c, pages: p ? p.pages : null, state, processed, rate, eta, parts: { created: pct(c.created), linked: pct(c.linked), skipped: pct(c.skipped), failed: pct(c.failed) } };
  });
  const processed = rows.reduce((n, r) => n + r.processed, 0);
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    active,
    error: run.error,
    retryAt: run.retryAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    elapsedSeconds: elapsed,
    processed,
    rate: perSecond(processed),
    rows,
  };
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export const formatRate = (r: number | null) => (r === null ? '—' : `${r >= 10 ? Math.round(r) : r.toFixed(1)}/s`);
