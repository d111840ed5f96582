import type { RateLimitPolicy, RateLimitSnapshot, ResponseHeaders } from '../../src/import/rate-limiter.ts';

/**
 * Help Scout's budget: `X-RateLimit-Limit-Minute` and `X-RateLimit-Remaining-Minute` on every
 * answer, `X-RateLimit-Retry-After` (seconds) on a 429, and no reset time otherwise. The engine's
 * budget needs one to wait for instead of probing into a 429, so this tracker keeps an upper bound
 * on when the current window ends, from what it sees:
 *
 * - a 429's Retry-After: the window ends at most that many seconds from now;
 * - Remaining jumping up: a window began since the previous answer, so the next one begins at
 *   most a window from now;
 * - the first answer, or the first after the bound passed: its window began before it, so it
 *   ends at most a window from now.
 *
 * Every bound is late rather than early: waiting for it never meets a 429, and the first answer
 * of the next window moves it on. The account's budget is shared by all its apps and outlives a
 * run's slice, so trackers are kept per account (base URL and app id) for the process.
 */

export const HELPSCOUT_WINDOW_MS = 60_000;
const MAX_TRACKERS = 1_000;

const count = (v: string | undefined): number | undefined => {
  if (v === undefined || !/^\s*\d+(?:\.\d+)?\s*$/.test(v)) return undefined;
  return Number(v);
};

export type WindowTracker = { parse(headers: ResponseHeaders): RateLimitSnapshot };

export function createWindowTracker(windowMs = HELPSCOUT_WINDOW_MS, now: () => number = Date.now): WindowTracker {
  let windowEnd: number | undefined;
  /** The lowest Remaining seen in the current window. */
  let lowest: number | undefined;
  return {
    parse(headers) {
      const t = now();
      const limit = count(headers['x-ratelimit-limit-minute']);
      const remaining = count(headers['x-ratelimit-remaining-minute']);
      const retryAfter = count(headers['x-ratelimit-retry-after']);
      if (retryAfter !== undefined) {
        windowEnd = t + retryAfter * 1000;
        lowest = 0;
      } else if (remaining !== undefined) {
        // Answers overtake each other by about the requests in flight: a smaller rise is not a new window.
        const rise = Math.max(2, Math.min(16, Math.floor((limit ?? 32) / 2)));
        // Any moment's window ends within a window from it; the first moment seen in a window gives the closest bound.
        if (lowest === undefined || windowEnd === undefined || t >= windowEnd || remaining > lowest + rise) {
          windowEnd = t + windowMs;
          lowest = remaining;
        } else {
          lowest = Math.min(lowest, remaining);
        }
      }
      const resetMs = windowEnd !== undefined && windowEnd > t ? windowEnd - t : undefined;
      return { limit, remaining, resetMs };
    },
  };
}

const trackers = new Map<string, WindowTracker>();

/** The rate-limit policy of one Help Scout account (its base URL and app id). */
export function helpScoutRateLimit(account: string, windowMs = HELPSCOUT_WINDOW_MS): RateLimitPolicy {
  const key = `${account}|${windowMs}`;
  let tracker = trackers.get(key);
  if (!tracker) {
    if (trackers.size >= MAX_TRACKERS) trackers.delete(trackers.keys().next().value!);
    tracker = createWindowTracker(windowMs);
    trackers.set(key, tracker);
  }
  const found = tracker;
  return { parseHeaders: (headers) => found.parse(headers) };
}
