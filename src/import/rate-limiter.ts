/**
 * The request budget of one connection, learnt from the provider's rate-limit headers. The client
 * takes a permit before each request and hands the response's headers back when it ends, so the
 * connection stays under the provider's budget instead of bouncing off 429s.
 *
 * Concurrency: JavaScript runs one callback at a time, and a permit is taken synchronously after a
 * wait, so several in-flight requests of one connection never spend the same token twice.
 */

/** What one response says about the budget; `resetMs` is the time until the window resets. */
export type RateLimitSnapshot = { limit?: number | undefined; remaining?: number | undefined; resetMs?: number | undefined };

/** Response headers with lower-case names. */
export type ResponseHeaders = Readonly<Record<string, string | undefined>>;

export type RateLimitPolicy = {
  parseHeaders(headers: ResponseHeaders): RateLimitSnapshot;
  /** Tokens left unused for other clients of the same account; 0 spends the whole budget. */
  reserve?: number | undefined;
};

export type Permit = { release(snapshot?: RateLimitSnapshot): void };
export type AcquireResult = { permit: Permit } | { retryAt: number };

/** Wake a little after the announced reset: the server's clock and rounding are not ours. */
const RESET_SLACK_MS = 25;
/** How often a request waiting for another's answer looks again (it is also woken by that answer). */
const POLL_MS = 250;
/** A reset later than the known one by more than this is a new window, not a rounding difference. */
const WINDOW_TOLERANCE_MS = 1_000;

const count = (v: string | undefined): number | undefined => {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** The IETF draft headers (`RateLimit-Limit`, `-Remaining`, `-Reset` in seconds), which Zendesk sends too. */
export function parseIetfRateLimitHeaders(headers: ResponseHeaders): RateLimitSnapshot {
  const reset = count(headers['ratelimit-reset']);
  return {
    limit: count(headers['ratelimit-limit']),
    remaining: count(headers['ratelimit-remaining']),
    resetMs: reset === undefined ? undefined : reset * 1000,
  };
}

type Decision = { go: true } | { go: false; waitMs: number; forAnswer: boolean };

export class RateBudget {
  readonly #reserve: number;
  readonly #now: () => number;
  #limit: number | undefined;
  /** Tokens we may still spend in this window, net of requests in flight; undefined = unknown. */
  #remaining: number | undefined;
  #resetAt: number | undefined;
  #pausedUntil = 0;
  #inFlight = 0;
  /** Permits handed out so far: a permit's number tells which requests were sent after it. */
  #sent = 0;
  /** Whether any response has told us about the budget (or that the provider announces none). */
  #learnt = false;
  #wakers = new Set<() => void>();

  constructor(options: { reserve?: number | undefined; now?: () => number } = {}) {
    this.#reserve = Math.max(0, options.reserve ?? 0);
    this.#now = options.now ?? Date.now;
  }

  /**
   * A permit to send one request, after waiting inline for at most `maxWaitMs` per wait; a longer
   * wait is answered with the time to come back instead of a sleep.
   */
  async acquire(maxWaitMs: number, signal?: AbortSignal): Promise<AcquireResult> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#now();
      const decision = this.#decide(now);
      if (decision.go) {
        this.#inFlight++;
        if (this.#remaining !== undefined) this.#remaining--;
        return { permit: this.#permit(this.#sent++) };
      }
      if (!decision.forAnswer && decision.waitMs > maxWaitMs) return { retryAt: now + decision.waitMs };
      await this.#sleep(decision.waitMs, signal);
    }
  }

  /** Nobody sends before `until` (a 429's Retry-After applies to the whole connection). */
  pause(until: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, until);
  }

  #decide(now: number): Decision {
    if (now < this.#pausedUntil) return { go: false, waitMs: this.#pausedUntil - now, forAnswer: false };
    if (this.#resetAt !== undefined && now >= this.#resetAt) {
      // A new window: spend up to the limit again, counting what is still in flight.
      this.#remaining = this.#limit === undefined ? undefined : Math.max(0, this.#limit - this.#inFlight);
      this.#resetAt = undefined;
    }
    if (!this.#learnt) {
      // Nothing known yet: one probe request at a time until an answer tells us the budget.
      return this.#inFlight === 0 ? { go: true } : { go: false, waitMs: POLL_MS, forAnswer: true };
    }
    if (this.#remaining === undefined || this.#remaining > this.#reserve) return { go: true };
    if (this.#resetAt !== undefined) return { go: false, waitMs: this.#resetAt - now + RESET_SLACK_MS, forAnswer: false };
    // Spent, with no reset announced: let answers in flight tell us more, else probe once.
    return this.#inFlight === 0 ? { go: true } : { go: false, waitMs: POLL_MS, forAnswer: true };
  }

  #permit(seq: number): Permit {
    let released = false;
    return {
      release: (snapshot) => {
        if (released) return;
        released = true;
        this.#inFlight--;
        if (snapshot) this.#observe(snapshot, seq);
        for (const wake of this.#wakers) wake();
      },
    };
  }

  #observe(raw: RateLimitSnapshot, seq: number): void {
    const now = this.#now();
    this.#learnt = true;
    // An adapter's parser may hand back NaN or negatives for headers that are missing or odd.
    const usable = (n: number | undefined) => (n !== undefined && Number.isFinite(n) && n >= 0 ? n : undefined);
    const snapshot = { limit: usable(raw.limit), remaining: usable(raw.remaining), resetMs: usable(raw.resetMs) };
    if (snapshot.limit !== undefined) this.#limit = snapshot.limit;
    const resetAt = snapshot.resetMs === undefined ? undefined : now + snapshot.resetMs;
    const sameWindow =
      this.#resetAt !== undefined && now < this.#resetAt && (resetAt === undefined || resetAt <= this.#resetAt + WINDOW_TOLERANCE_MS);
    if (snapshot.remaining !== undefined) {
      // The answer counts this request and (servers work in order) those sent before it; the ones
      // sent after it may not be counted yet: assume they are not.
      const estimate = Math.max(0, snapshot.remaining - (this.#sent - seq - 1));
      this.#remaining = sameWindow && this.#remaining !== undefined ? Math.min(this.#remaining, estimate) : estimate;
    }
    // Providers round the reset up to whole seconds, so every answer over-estimates it: the
    // earliest estimate in a window is the closest, and waking then still never comes early.
    if (resetAt !== undefined) this.#resetAt = sameWindow && this.#resetAt !== undefined ? Math.min(this.#resetAt, resetAt) : resetAt;
  }

  #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanUp = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        signal?.removeEventListener('abort', aborted);
      };
      const wake = () => {
        cleanUp();
        resolve();
      };
      const aborted = () => {
        cleanUp();
        reject(signal?.reason);
      };
      const timer = setTimeout(wake, Math.max(0, ms));
      this.#wakers.add(wake);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }
}
