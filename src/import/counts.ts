/** A run's tally per stream name: what it created, linked to existing rows, skipped as known, or failed. */
export type StreamCounts = { created: number; linked: number; skipped: number; failed: number };
export type RunCounts = Record<string, StreamCounts>;

const zero = (): StreamCounts => ({ created: 0, linked: 0, skipped: 0, failed: 0 });

export function addCount(counts: RunCounts, name: string, what: keyof StreamCounts, n = 1): void {
  (counts[name] ??= zero())[what] += n;
}

export function mergeCounts(into: RunCounts, from: RunCounts): RunCounts {
  for (const [name, c] of Object.entries(from)) for (const k of Object.keys(c) as Array<keyof StreamCounts>) addCount(into, name, k, c[k]);
  return into;
}
