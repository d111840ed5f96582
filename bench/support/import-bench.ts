import type { RunCounts } from '../../src/import/counts.ts';

/** What every import benchmark prints and measures the same way. */

/** A size from the environment (`BENCH_..._USERS=1000`), else the benchmark's default. */
export const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);

export const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** `users 97999c/0l/0s/0f, ...`: created, linked, skipped, failed per stream. */
export function describeCounts(counts: RunCounts): string {
  return Object.entries(counts).map(([k, c]) => `${k} ${c.created}c/${c.linked}l/${c.skipped}s/${c.failed}f`).join(', ');
}

/** Peak resident set size while `work` runs, sampled every 200 ms (and once at the end). */
export async function withRssPeak<T>(work: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  try {
    const result = await work();
    return { result, peakRss: Math.max(peak, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}
