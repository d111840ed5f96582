import { describe, expect, it } from 'vitest';
import { RateBudget } from '../../src/import/rate-limiter.ts';
import { createWindowTracker, HELPSCOUT_WINDOW_MS } from './rate-limit.ts';

const headers = (limit: number, remaining: number, retryAfter?: number) => ({
  'x-ratelimit-limit-minute': String(limit),
  'x-ratelimit-remaining-minute': String(remaining),
  ...(retryAfter === undefined ? {} : { 'x-ratelimit-retry-after': String(retryAfter) }),
});

/**
 * Help Scout's fixed one-minute windows, simulated: the tracker's bounds must never let the
 * engine's budget send into a spent window, whatever the phase of the windows against the first
 * request, and the budget must still spend every window.
 */
function simulate(phaseMs: number, limit: number, windows: number) {
  let now = 1_000_000;
  const tracker = createWindowTracker(HELPSCOUT_WINDOW_MS, () => now);
  const windowOf = (t: number) => Math.floor((t - phaseMs) / HELPSCOUT_WINDOW_MS);
  const used = new Map<number, number>();
  let throttled = 0;
  let sent = 0;
  const end = now + windows * HELPSCOUT_WINDOW_MS;
  const send = () => {
    const w = windowOf(now);
    const n = used.get(w) ?? 0;
    if (n >= limit) {
      throttled += 1;
      const retry = Math.ceil(((w + 1) * HELPSCOUT_WINDOW_MS + phaseMs - now) / 1000);
      return tracker.parse(headers(limit, 0, retry));
    }
    used.set(w, n + 1);
    sent += 1;
    return tracker.parse(headers(limit, limit - n - 1));
  };
  // The engine's budget decides, one request at a time with a 40 ms round trip; where it would
  // sleep, the simulated clock jumps to the time it names.
  const budget = new RateBudget({ now: () => now });
  return (async () => {
    while (now < end) {
      const got = await budget.acquire(0);
      if ('retryAt' in got) {
        now = Math.max(now + 1, got.retryAt);
        continue;
      }
      now += 40;
      const snapshot = send();
      if (snapshot.remaining === 0 && snapshot.resetMs !== undefined && throttled > 0) budget.pause(now + snapshot.resetMs);
      got.permit.release(snapshot);
    }
    return { throttled, sent, used };
  })();
}

describe('the Help Scout rate-limit tracker', () => {
  it('reads the limit and remaining; the first answer bounds its window a minute ahead; a 429 by its Retry-After', () => {
    let now = 0;
    const tracker = createWindowTracker(HELPSCOUT_WINDOW_MS, () => now);
    expect(tracker.parse(headers(400, 399))).toEqual({ limit: 400, remaining: 399, resetMs: 60_000 });
    now = 10_000;
    expect(tracker.parse(headers(400, 350))).toEqual({ limit: 400, remaining: 350, resetMs: 50_000 });
    now = 20_000;
    expect(tracker.parse(headers(400, 0, 7))).toEqual({ limit: 400, remaining: 0, resetMs: 7_000 });
    // After the window: Remaining back up is a new window, bounded a minute from the answer that shows it.
    now = 27_100;
    expect(tracker.parse(headers(400, 399))).toEqual({ limit: 400, remaining: 399, resetMs: 60_000 });
    // No headers at all (a file host, an error page): nothing learnt, the bound still counts down.
    now = 30_000;
    expect(tracker.parse({})).toEqual({ limit: undefined, remaining: undefined, resetMs: 57_100 });
  });

  it('answers arriving a little out of order are not a new window', () => {
    let now = 0;
    const tracker = createWindowTracker(HELPSCOUT_WINDOW_MS, () => now);
    tracker.parse(headers(400, 300));
    now = 1_000;
    tracker.parse(headers(400, 290));
    now = 2_000;
    expect(tracker.parse(headers(400, 296)).resetMs).toBe(58_000);
  });

  it('at the default one-minute window, the budget never meets a 429 after the first window and spends nearly every window', async () => {
    for (const phase of [0, 7_300, 31_000, 59_900]) {
      const { throttled, used } = await simulate(phase, 50, 12);
      // The first window's bound is the first answer plus a minute, never early: no 429 at all.
      expect({ phase, throttled }).toEqual({ phase, throttled: 0 });
      // Every full window after the first is spent to the limit.
      const full = [...used.entries()].sort(([a], [b]) => a - b).slice(1, -1);
      expect(full.length).toBeGreaterThan(8);
      const spent = full.filter(([, n]) => n === 50).length;
      expect(spent / full.length).toBeGreaterThanOrEqual(0.9);
    }
  });
});
