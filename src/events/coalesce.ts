/**
 * One run of `work` at a time: `run()` starts it, or, while it runs, has it run once more after
 * (however many calls came meanwhile), so a wake-up that arrives mid-run is never lost and wake-ups
 * never pile up. A throw goes to `onError`; the next call runs again. `settled()` waits for the
 * current run, for a stop.
 */
export function coalesce(work: () => Promise<void>, onError: (err: unknown) => void): { run(): void; settled(): Promise<void> } {
  let current: Promise<void> | null = null;
  let again = false;
  return {
    run() {
      if (current) {
        again = true;
        return;
      }
      current = (async () => {
        do {
          again = false;
          try {
            await work();
          } catch (err) {
            onError(err);
          }
        } while (again);
      })().finally(() => {
        current = null;
      });
    },
    settled: async () => {
      await current;
    },
  };
}
