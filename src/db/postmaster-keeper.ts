import { setTimeout as sleep } from 'node:timers/promises';
import { describeExit, type Postmaster } from './postmaster.ts';

/** How hard we try to bring a dead embedded server back before giving up. */
export const RESTART_POLICY = Object.freeze({
  /** Start attempts after one death, waiting this long before each. */
  backoffMs: Object.freeze([250, 1_000, 2_000, 4_000, 8_000]),
  /** More deaths than this within `windowMs` is a crash loop: give up rather than hide it. */
  maxDeaths: 3,
  windowMs: 10 * 60_000,
});

export type KeeperOptions = {
  log: (message: string) => void;
  /** Called once when the server is dead for good; the process should exit so a supervisor restarts it. */
  onGiveUp: (err: Error) => void;
  policy?: { backoffMs: readonly number[]; maxDeaths: number; windowMs: number };
};

/**
 * Keeps the embedded server running: when it dies unexpectedly (killed, crashed), starts it
 * again on the same port, so every pool's connection string stays valid and PostgreSQL's crash
 * recovery replays what was committed. Bounded and logged; past the bound, `onGiveUp`.
 */
export function keepRunning(first: Postmaster, start: () => Promise<Postmaster>, options: KeeperOptions): { pid(): number; stop(): Promise<void> } {
  const policy = options.policy ?? RESTART_POLICY;
  let current = first;
  let stopping = false;
  const stopped = new AbortController();
  let restarting: Promise<void> | undefined;
  const deaths: number[] = [];

  const restart = async (dead: Postmaster, why: string) => {
    const now = Date.now();
    deaths.push(now);
    while (deaths[0]! < now - policy.windowMs) deaths.shift();
    if (deaths.length > policy.maxDeaths) {
      return options.onGiveUp(new Error(`embedded PostgreSQL (pid ${dead.pid}) died (${why}), its ${deaths.length}th death in ${policy.windowMs / 60_000} minutes; not restarting it again`));
    }
    options.log(`embedded PostgreSQL (pid ${dead.pid}) died (${why}); restarting it`);
    let lastError: unknown;
    for (const [i, waitMs] of policy.backoffMs.entries()) {
      // Its backends exit once they notice; until then a new server refuses the shared memory.
      if (!(await sleep(waitMs, true, { signal: stopped.signal }).catch(() => false))) return;
      try {
        const started = Date.now();
        current = await start();
        if (stopping) return void (await current.stop());
        options.log(`embedded PostgreSQL restarted (pid ${current.pid}, attempt ${i + 1}, ${Date.now() - started} ms)`);
        watch(current);
        return;
      } catch (err) {
        lastError = err;
        options.log(`embedded PostgreSQL restart attempt ${i + 1} of ${policy.backoffMs.length} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    options.onGiveUp(
      new Error(`embedded PostgreSQL died (${why}) and did not restart after ${policy.backoffMs.length} attempts: ${lastError instanceof Error ? lastError.message : String(lastError)}`),
    );
  };

  const watch = (server: Postmaster) => {
    void server.exited.then((exit) => {
      if (stopping || server !== current) return;
      restarting = restart(server, describeExit(exit)).finally(() => {
        restarting = undefined;
      });
    });
  };
  watch(first);

  return {
    pid: () => current.pid,
    stop: async () => {
      stopping = true;
      stopped.abort();
      await restarting;
      await current.stop();
    },
  };
}
