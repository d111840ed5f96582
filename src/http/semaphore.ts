/** A counting semaphore: at most `size` holders; the rest wait in order. */
export class Semaphore {
  #free: number;
  #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }

  /**
   * Resolves with a release function once a place is free. With a signal, a waiter that gives up
   * (its client left, its wait ran out) leaves the queue and rejects with the signal's reason.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#free > 0) this.#free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', giveUp);
          resolve();
        };
        const giveUp = () => {
          const at = this.#waiting.indexOf(grant);
          if (at !== -1) this.#waiting.splice(at, 1);
          reject(signal!.reason);
        };
        this.#waiting.push(grant);
        signal?.addEventListener('abort', giveUp, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }

  /** Places free right now (for tests and metrics). */
  get free(): number {
    return this.#free;
  }
}
