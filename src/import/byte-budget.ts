/**
 * A budget of bytes held in memory, shared by whoever takes from it: `take` waits (first come,
 * first served) until the bytes fit, `charge` takes more at once when something turned out larger
 * than it said (the debt makes the next takers wait), `give` returns bytes. A request larger than
 * the whole budget is let through when nothing else is held, so it can never wait for ever.
 */
export class ByteBudget {
  #held = 0;
  readonly #waiting: Array<{ bytes: number; grant: () => void }> = [];

  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get held(): number {
    return this.#held;
  }

  /** How many takers wait for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Whether `bytes` could be taken now without waiting. */
  fits(bytes: number): boolean {
    return this.#waiting.length === 0 && this.#admits(bytes);
  }

  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.fits(bytes)) {
      this.#held += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        bytes,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal!.reason);
        this.#wake();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  charge(bytes: number): void {
    this.#held += bytes;
  }

  give(bytes: number): void {
    this.#held = Math.max(0, this.#held - bytes);
    this.#wake();
  }

  #admits(bytes: number): boolean {
    return this.#held + bytes <= this.limit || this.#held === 0;
  }

  #wake(): void {
    while (this.#waiting.length > 0 && this.#admits(this.#waiting[0]!.bytes)) {
      const next = this.#waiting.shift()!;
      this.#held += next.bytes;
      next.grant();
    }
  }
}
