import cliProgress from 'cli-progress';
import type { RunCounts } from '../import/counts.ts';
import type { ImportRun, StreamProgress } from '../import/runs.ts';

/** A foreground run's progress on a terminal: one bar per stream. */
export function progressBars() {
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
export function countLines(counts: RunCounts, indent: string): string[] {
  return Object.entries(counts).map(([stream, c]) => `${indent}${stream.padEnd(14)} ${c.created} created, ${c.linked} linked, ${c.skipped} skipped, ${c.failed} failed`);
}

/** A finished run: its status, counts and first record errors. */
export function summary(run: ImportRun, errorTotal: number, errors: Array<{ recordType: string; sourceId: string; reason: string }>): string {
  const lines = [`Run ${run.id}: ${run.status}${run.error ? ` (${run.error})` : ''}`];
  lines.push(...countLines(run.counts, '  '));
  if (errorTotal > 0) {
    lines.push(`  ${errorTotal} record error(s):`);
    for (const e of errors) lines.push(`    ${e.recordType} ${e.sourceId}: ${e.reason}`);
  }
  return lines.join('\n');
}
