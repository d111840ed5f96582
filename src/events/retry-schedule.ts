/** Plain's webhook retry offsets, after attempt 1: 10s, 30s, 5m, 30m, 1h, 3h, 6h, 12h, then 1d four times. */
export const RETRY_OFFSETS_SECONDS = Object.freeze([10, 30, 300, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 86_400, 86_400, 86_400]);
export const MAX_ATTEMPTS = RETRY_OFFSETS_SECONDS.length + 1;

/**
 * Milliseconds to wait before attempt `next` (2..13), or null when the chain is exhausted.
 * `timeScale` speeds the schedule up for tests (0.001 turns a day into 86 s).
 */
export function delayBeforeAttempt(next: number, timeScale = 1): number | null {
  const offset = RETRY_OFFSETS_SECONDS[next - 2];
  return offset === undefined ? null : Math.round(offset * 1000 * timeScale);
}
