import { describe, expect, it } from 'vitest';
import { runInWorker, WorkerLimitError } from '../src/inbound/worker-pool.ts';

const SPIN = new URL('./fixtures/workers/spin.ts', import.meta.url);

describe('inbound worker threads', () => {
  it('stops a task that runs past its budget, and the pool keeps working', async () => {
    const started = Date.now();
    await expect(runInWorker(SPIN, { ms: 60_000 }, 300)).rejects.toBeInstanceOf(WorkerLimitError);
    // Terminated, not waited for: far sooner than the task's minute.
    expect(Date.now() - started).toBeLessThan(30_000);
    await expect(runInWorker(SPIN, { ms: 1 }, 10_000)).resolves.toBe('done');
  });

  it('runs a task on another thread while this one stays free', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      await runInWorker(SPIN, { ms: 500 }, 10_000);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(5);
  });
});
