import type { RateLimitSnapshot, ResponseHeaders } from '../../src/import/rate-limiter.ts';

/**
 * HubSpot's budgets, read from its headers: `X-HubSpot-RateLimit-Max` requests per
 * `-Interval-Milliseconds` (a ROLLING 10-second window), `-Remaining` in it, and `-Daily` /
 * `-Daily-Remaining` until midnight in the account's time zone. Search answers carry none: search
 * has its own, lower limit, paced by the adapter.
 *
 * The engine's budget refills a window at once when it resets; a rolling window frees one slot
 * each time the oldest counted request ages out. So the reset announced is the moment the oldest
 * request still counted leaves the window, estimated from when this session saw its answers (never
 * earlier than HubSpot counted it). Requests go out one at a time, so after that moment one request
 * goes and its answer tells the budget the truth again.
 */

/** When an account's day ends: its IANA time zone, else its UTC offset, from /account-info/v3/details. */
export type AccountClock = { timeZone?: string | null | undefined; utcOffsetMs?: number | null | undefined };

const DEFAULT_INTERVAL_MS = 10_000;
/** A little after midnight: HubSpot's clock and ours differ. */
const DAILY_RESET_SLACK_MS = 30_000;
const HOUR_MS = 3_600_000;

const count = (v: string | undefined): number | undefined => {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

export type HubSpotRateLimit = {
  parseHeaders(headers: ResponseHeaders): RateLimitSnapshot;
  /** Until the 10-second window has room again, as the latest answer with HubSpot's headers said; undefined if none did. */
  untilRoomMs(): number | undefined;
};

export function hubspotRateLimit(clock: () => AccountClock | null, now: () => number = Date.now): HubSpotRateLimit {
  /** When this session saw answers carrying the window's headers, oldest first. */
  const seen: number[] = [];
  let roomAt: number | undefined;
  return {
    parseHeaders(headers) {
      const t = now();
      const dailyRemaining = count(headers['x-hubspot-ratelimit-daily-remaining']);
      if (dailyRemaining === 0) {
        // Spent for today: nothing goes out before the account's midnight.
        return { limit: count(headers['x-hubspot-ratelimit-daily']), remaining: 0, resetMs: nextDailyReset(clock(), t) - t };
      }
      const max = count(headers['x-hubspot-ratelimit-max']);
      const remaining = count(headers['x-hubspot-ratelimit-remaining']);
      if (max === undefined || remaining === undefined) return {};
      const interval = count(headers['x-hubspot-ratelimit-interval-milliseconds']) || DEFAULT_INTERVAL_MS;
      // The latest `max` answers, whatever their age: which ones HubSpot still counts is its to say
      // (`max - remaining`), by when they arrived, which this clock cannot see.
      seen.push(t);
      while (seen.length > Math.max(1, max)) seen.shift();
      const used = Math.max(0, max - remaining);
      // Counted requests this session did not see (another app, an earlier process): wait the whole window.
      const oldest = used === 0 ? t - interval : used <= seen.length ? seen[seen.length - used]! : t;
      roomAt = oldest + interval;
      return { limit: max, remaining, resetMs: Math.max(0, roomAt - t) };
    },
    untilRoomMs() {
      return roomAt === undefined ? undefined : Math.max(0, roomAt - now());
    },
  };
}

/**
 * The next daily reset: midnight in the account's time zone (daylight saving included), else by its
 * UTC offset; unknown, the next whole hour, since every zone's midnight falls on one (or a half hour).
 */
export function nextDailyReset(clock: AccountClock | null, now: number): number {
  if (clock?.timeZone) {
    try {
      return nextMidnightIn(clock.timeZone, now) + DAILY_RESET_SLACK_MS;
    } catch {
      // Not a zone this runtime knows: fall back to the offset.
    }
  }
  if (typeof clock?.utcOffsetMs === 'number' && Number.isFinite(clock.utcOffsetMs)) {
    const local = now + clock.utcOffsetMs;
    const d = new Date(local);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - clock.utcOffsetMs + DAILY_RESET_SLACK_MS;
  }
  return (Math.floor(now / (HOUR_MS / 2)) + 1) * (HOUR_MS / 2) + DAILY_RESET_SLACK_MS;
}

/** The first instant after `now` whose wall-clock time in `timeZone` is a new day. Throws RangeError for an unknown zone. */
export function nextMidnightIn(timeZone: string, now: number): number {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const offsetAt = (t: number) => {
    const parts = Object.fromEntries(format.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
    const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
    return wall - Math.floor(t / 1000) * 1000;
  };
  const local = new Date(now + offsetAt(now));
  const midnight = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1);
  // The offset at midnight may differ from now's (a daylight saving change today): correct once more.
  const guess = midnight - offsetAt(now);
  return midnight - offsetAt(guess);
}
