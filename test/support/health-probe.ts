import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Polls `/healthz` from a separate process, one request after another, and reports each answer's
 * latency. A separate process, because a client in the server's own process stalls with it and
 * cannot see the stall.
 */
export type HealthProbe = {
  /** Marks the start of a measured window. */
  mark(): number;
  /**
   * The slowest answer (ms) among the probes sent since `since`, and their count. Waits until a
   * probe sent after this call has answered, so a stall still in progress is counted.
   */
  worstSince(since: number): Promise<{ worstMs: number; probes: number; failures: number }>;
  stop(): Promise<void>;
};

// Runs in the child: plain JavaScript, one JSON line per answered probe.
const PROBE_SCRIPT = `
const url = process.argv[1];
const intervalMs = Number(process.argv[2]);
const timeoutMs = Number(process.argv[3]);
(async () => {
  for (;;) {
    const sentAt = Date.now();
    let ok = false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      await res.text();
      ok = res.status === 200;
    } catch {}
    process.stdout.write(JSON.stringify({ sentAt, ms: Date.now() - sentAt, ok }) + '\\n');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
})();
`;

type Sample = { sentAt: number; ms: number; ok: boolean };

export async function startHealthProbe(url: string, options: { intervalMs?: number; timeoutMs?: number } = {}): Promise<HealthProbe> {
  const child: ChildProcess = spawn(process.execPath, ['-e', PROBE_SCRIPT, url, String(options.intervalMs ?? 50), String(options.timeoutMs ?? 120_000)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const samples: Sample[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    samples.push(JSON.parse(line) as Sample);
    for (const wake of waiters.splice(0)) wake();
  });
  const answeredAfter = async (t: number) => {
    while (!samples.some((s) => s.sentAt >= t)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  // The first answer proves the probe and the server are up.
  await answeredAfter(0);
  return {
    mark: () => Date.now(),
    async worstSince(since) {
      await answeredAfter(Date.now());
      const window = samples.filter((s) => s.sentAt >= since);
      return { worstMs: Math.max(...window.map((s) => s.ms)), probes: window.length, failures: window.filter((s) => !s.ok).length };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
