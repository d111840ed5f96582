import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { InboundWake } from './ledger.ts';
import type { InboundLoop } from './processing-loop.ts';
import type { ProcessingThreadMessage, ProcessingThreadSetup } from './processing-loop-worker.ts';

const ENTRY = new URL('./processing-loop-worker.ts', import.meta.url);
/**
 * The thread's nice value (on Linux a thread's own): when the cores are busy, answering receipts
 * (the sender waits on it) goes before processing (which only has to keep up), and processing
 * still takes every cycle nothing else wants. In the open-loop bench this took accept p99 from
 * 28-48 ms to 20-38 ms in paired runs, with the same processed rate in the closed loop.
 */
export const PROCESSING_NICE = 10;
export const THREAD_RESTARTS = Object.freeze({
  /** A thread that died is started again after this long (what it had claimed rolled back and is due again). */
  afterMs: 1_000,
  /** More deaths than this within `windowMs` is a crash loop (an email that kills the thread each time, say): give up rather than hide it. */
  maxDeaths: 3,
  windowMs: 10 * 60_000,
});

/**
 * The inbound loop (processing-loop.ts) on a thread of its own, for `intake start`: parsing mail
 * and building its statements never hold up the thread that answers receipts, and the two use
 * both cores. Wakes cross as messages. A thread that dies is logged and started again; the
 * ledger keeps what it held, so nothing is lost. Resolves once the loop runs.
 */
export async function startInboundThread(
  setup: ProcessingThreadSetup,
  logger: Logger,
  /** Called once on a crash loop; the process should exit so that a supervisor restarts it and someone looks. */
  onGiveUp: (err: Error) => void,
  policy: { afterMs: number; maxDeaths: number; windowMs: number } = THREAD_RESTARTS,
): Promise<InboundLoop & { current(): Worker }> {
  let stopping = false;
  const deaths: number[] = [];
  /** False between a thread's death and its successor's start. */
  let running = false;
  let current = await launch();

  function launch(): Promise<Worker> {
    const worker = new Worker(ENTRY, { workerData: setup });
    return new Promise((resolve, reject) => {
      const early = (err: unknown) => reject(err instanceof Error ? err : new Error(`the inbound thread exited with code ${String(err)} before it was ready`));
      worker.once('error', early);
      worker.once('exit', early);
      worker.once('message', (m: { type?: string }) => {
        if (m?.type !== 'ready') return early(new Error(`the inbound thread said ${JSON.stringify(m)} before it was ready`));
        worker.off('error', early);
        worker.off('exit', early);
        worker.on('error', (err) => logger.error({ err }, 'the inbound processing thread failed'));
        worker.once('exit', (code) => void restart(worker, code));
        running = true;
        resolve(worker);
      });
    });
  }

  /** Lets the thread finish its batches in flight and close its pool (or die trying), then ends it. */
  async function stopThread(worker: Worker): Promise<void> {
    const done = Promise.race([once(worker, 'exit'), new Promise<void>((resolve) => worker.on('message', (m: { type?: string }) => m?.type === 'stopped' && resolve()))]);
    worker.postMessage({ type: 'stop' } satisfies ProcessingThreadMessage);
    await done;
    await worker.terminate();
  }

  async function restart(worker: Worker, code: number): Promise<void> {
    if (stopping || worker !== current) return;
    running = false;
    const now = Date.now();
    deaths.push(now);
    while (deaths[0]! < now - policy.windowMs) deaths.shift();
    if (deaths.length > policy.maxDeaths) {
      stopping = true;
      return onGiveUp(new Error(`the inbound processing thread exited (code ${code}), its ${deaths.length}th death in ${policy.windowMs / 60_000} minutes; not starting it again`));
    }
    logger.error({ code }, `the inbound processing thread exited; starting it again in ${policy.afterMs} ms`);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, policy.afterMs));
      if (stopping) return;
      try {
        current = await launch();
        // A stop that came while this one started found no thread to stop: this one stops now.
        if (stopping) await stopThread(current);
        return;
      } catch (err) {
        logger.error({ err }, 'the inbound processing thread could not start; trying again');
      }
    }
  }

  const send = (message: ProcessingThreadMessage) => running && current.postMessage(message);
  return {
    /** The thread running now (tests end it to see it replaced). */
    current: () => current,
    wake: (which: InboundWake = 'all') => {
      if (!stopping) send({ type: 'wake', which });
    },
    stop: async () => {
      if (stopping) return;
      stopping = true;
      // Between a death and the next start there is no thread to stop (a start under way stops its thread itself).
      if (running) await stopThread(current);
    },
  };
}
