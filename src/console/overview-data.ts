import type { Queryable } from '../db/pool.ts';
import { attemptsByHour } from '../events/delivery-stats.ts';
import { runThroughput } from '../import/run-stats.ts';
import { INBOUND_STATUSES } from '../inbound/ledger.ts';
import { volumeByHour } from '../inbound/stats.ts';

/** What the overview's charts draw, for one workspace: plain JSON, embedded in the page and served at /console/overview.json. */

export const OVERVIEW_HOURS = 48;
export const THROUGHPUT_DAYS = 7;
const HOUR = 3600_000;

export type Overview = {
  hours: string[];
  inbound: { hours: string[]; series: Array<{ status: string; counts: number[] }>; total: number; byStatus: Record<string, number> };
  /** The throughput chart's time axis: the last THROUGHPUT_DAYS days. */
  importsWindow: { from: string; to: string };
  imports: Array<{ connectionId: string; label: string; points: Array<{ at: string; runId: string; records: number; seconds: number; perSecond: number }> }>;
  webhooks: { hours: string[]; successRate: Array<number | null>; succeeded: number; failed: number; rate: number | null };
};

export async function overviewData(db: Queryable, workspaceId: string, providerName: (p: string) => string, now = new Date()): Promise<Overview> {
  const lastHour = Math.floor(now.getTime() / HOUR) * HOUR;
  const start = new Date(lastHour - (OVERVIEW_HOURS - 1) * HOUR);
  const hours = Array.from({ length: OVERVIEW_HOURS }, (_, i) => new Date(start.getTime() + i * HOUR).toISOString());
  const slot = (d: Date) => Math.floor((new Date(d).getTime() - start.getTime()) / HOUR);
  const runsFrom = new Date(now.getTime() - THROUGHPUT_DAYS * 24 * HOUR);
  const [volume, runs, attempts] = await Promise.all([
    volumeByHour(db, workspaceId, start),
    runThroughput(db, workspaceId, runsFrom),
    attemptsByHour(db, workspaceId, start),
  ]);

  const byStatus: Record<string, number[]> = {};
  for (const v of volume) {
    const i = slot(v.hour);
    if (i < 0 || i >= OVERVIEW_HOURS) continue;
    const counts = (byStatus[v.status] ??= new Array<number>(OVERVIEW_HOURS).fill(0));
    counts[i] = counts[i]! + v.n;
  }
  const series = INBOUND_STATUSES.filter((s) => byStatus[s]).map((status) => ({ status, counts: byStatus[status]! }));
  const totals = Object.fromEntries(series.map((s) => [s.status, s.counts.reduce((a, b) => a + b, 0)]));

  const connections = new Map<string, Overview['imports'][number]>();
  for (const r of runs) {
    let c = connections.get(r.connectionId);
    if (!c) connections.set(r.connectionId, (c = { connectionId: r.connectionId, label: `${providerName(r.provider)} ${r.account}`, points: [] }));
    c.points.push({ at: new Date(r.startedAt).toISOString(), runId: r.runId, records: r.records, seconds: Math.round(r.seconds * 10) / 10, perSecond: Math.round((r.records / r.seconds) * 10) / 10 });
  }

  const succeeded = new Array<number>(OVERVIEW_HOURS).fill(0);
  const failed = new Array<number>(OVERVIEW_HOURS).fill(0);
  for (const a of attempts) {
    const i = slot(a.hour);
    if (i < 0 || i >= OVERVIEW_HOURS) continue;
    succeeded[i] = succeeded[i]! + a.succeeded;
    failed[i] = failed[i]! + a.failed;
  }
  const ok = succeeded.reduce((a, b) => a + b, 0);
  const bad = failed.reduce((a, b) => a + b, 0);
  return {
    hours,
    inbound: { hours, series, total: Object.values(totals).reduce((a, b) => a + b, 0), byStatus: totals },
    importsWindow: { from: runsFrom.toISOString(), to: now.toISOString() },
    imports: [...connections.values()],
    webhooks: {
      hours,
      successRate: succeeded.map((s, i) => (s + failed[i]! ? Math.round((s / (s + failed[i]!)) * 1000) / 10 : null)),
      succeeded: ok,
      failed: bad,
      rate: ok + bad ? Math.round((ok / (ok + bad)) * 1000) / 10 : null,
    },
  };
}

/** JSON safe inside a <script type="application/json"> element: no "</script>" or comment openers can close it. */
export function embeddableJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
