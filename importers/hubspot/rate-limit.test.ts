import { describe, expect, it } from 'vitest';
import { hubspotRateLimit, nextDailyReset, nextMidnightIn } from './rate-limit.ts';

const headers = (max: number, remaining: number, extra: Record<string, string> = {}) => ({
  'x-hubspot-ratelimit-max': String(max),
  'x-hubspot-ratelimit-remaining': String(remaining),
  'x-hubspot-ratelimit-interval-milliseconds': '10000',
  ...extra,
});

describe("HubSpot's rolling window", () => {
  it('announces the moment the oldest counted request leaves the window, as this session saw it', () => {
    let now = 1_000_000;
    const rate = hubspotRateLimit(() => null, () => now);
    // Three requests 100 ms apart fill a window of three.
    expect(rate.parseHeaders(headers(3, 2))).toEqual({ limit: 3, remaining: 2, resetMs: 10_000 });
    now += 100;
    expect(rate.parseHeaders(headers(3, 1))).toEqual({ limit: 3, remaining: 1, resetMs: 9_900 });
    now += 100;
    // Full: room again when the first one (seen 200 ms ago) is 10 s old.
    expect(rate.parseHeaders(headers(3, 0))).toEqual({ limit: 3, remaining: 0, resetMs: 9_800 });
    expect(rate.untilRoomMs()).toBe(9_800);
    now += 9_800;
    expect(rate.untilRoomMs()).toBe(0);
  });

  it('an answer seen late does not make the requests HubSpot still counts look unknown', () => {
    let now = 0;
    const rate = hubspotRateLimit(() => null, () => now);
    for (const [t, remaining] of [[0, 2], [100, 1], [200, 0]] as const) {
      now = t;
      rate.parseHeaders(headers(3, remaining));
    }
    // Sent when the first slot freed; HubSpot counted it with the two at 100 and 200; its answer came slowly.
    now = 10_300;
    // The request at 100 leaves the window at 10,100: there is room already, not a whole window to wait.
    expect(rate.parseHeaders(headers(3, 0))).toEqual({ limit: 3, remaining: 0, resetMs: 0 });
  });

  it('counted requests it never saw (another app, an earlier process): the whole window', () => {
    const now = 5_000_000;
    const rate = hubspotRateLimit(() => null, () => now);
    expect(rate.parseHeaders(headers(100, 0))).toEqual({ limit: 100, remaining: 0, resetMs: 10_000 });
  });

  it('search answers carry no headers and say nothing; a spent day parks until midnight', () => {
    const now = Date.UTC(2024, 5, 10, 15, 0, 0);
    const rate = hubspotRateLimit(() => ({ timeZone: 'Europe/Paris' }), () => now);
    expect(rate.parseHeaders({})).toEqual({});
    const spent = rate.parseHeaders(headers(190, 150, { 'x-hubspot-ratelimit-daily': '500000', 'x-hubspot-ratelimit-daily-remaining': '0' }));
    // Midnight in Paris (UTC+2 in June) is 22:00 UTC, plus the slack.
    expect(spent).toEqual({ limit: 500_000, remaining: 0, resetMs: Date.UTC(2024, 5, 10, 22, 0, 30) - now });
  });
});

describe("the daily limit's reset", () => {
  it('is midnight in the account time zone, daylight saving included', () => {
    // New York changes to daylight time on 2024-03-10: that midnight is 05:00 UTC, the next one 04:00 UTC.
    expect(nextMidnightIn('America/New_York', Date.UTC(2024, 2, 9, 12))).toBe(Date.UTC(2024, 2, 10, 5));
    expect(nextMidnightIn('America/New_York', Date.UTC(2024, 2, 10, 12))).toBe(Date.UTC(2024, 2, 11, 4));
    expect(nextMidnightIn('Asia/Kolkata', Date.UTC(2024, 0, 1, 20))).toBe(Date.UTC(2024, 0, 2, 18, 30));
    expect(nextMidnightIn('UTC', Date.UTC(2024, 0, 1, 0, 0, 0))).toBe(Date.UTC(2024, 0, 2));
  });

  it('falls back to the UTC offset, then to the next half hour', () => {
    const now = Date.UTC(2024, 0, 1, 20, 10);
    expect(nextDailyReset({ timeZone: 'Not/AZone', utcOffsetMs: -5 * 3_600_000 }, now)).toBe(Date.UTC(2024, 0, 2, 5, 0, 30));
    expect(nextDailyReset(null, now)).toBe(Date.UTC(2024, 0, 1, 20, 30, 30));
  });
});
