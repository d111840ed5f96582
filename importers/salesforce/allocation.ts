import { RetryLaterError } from '../../src/import/errors.ts';

/**
 * The org's daily API allocation is shared with everything else the company runs: an importer
 * that spends it breaks the customer's other integrations. Every response says where the org
 * stands (`Sforce-Limit-Info: api-usage=N/M`); before each call this stops the run (the engine
 * parks it with its checkpoint, status `waiting`, and resumes it later) when the call would take
 * the org past its share, or the run past its own number of calls.
 */

export const DEFAULT_MAX_ORG_API_USAGE_PERCENT = 80;
export const DEFAULT_MAX_CALLS_PER_RUN = 1_000;
export const DEFAULT_ALLOCATION_PAUSE_MINUTES = 60;

export type AllocationPolicy = { maxUsagePercent: number; maxCallsPerRun: number; pauseMs: number };

export type Usage = { used: number; max: number };

/** `api-usage=25/5000; per-app-api-usage=17/250(appName=app)` -> the org's usage; null when absent or unreadable. */
export function parseLimitInfo(header: string | undefined): Usage | null {
  const m = /(?:^|[;,\s])api-usage=(\d+)\/(\d+)/.exec(header ?? '');
  if (!m) return null;
  const usage = { used: Number(m[1]), max: Number(m[2]) };
  return Number.isSafeInteger(usage.used) && Number.isSafeInteger(usage.max) ? usage : null;
}

/** Where a run stands in its own calls; carried in the stream's cursor so slices and restarts count on. */
export type RunCalls = { calls: number };

/** What the stream's cursor says about the run it belongs to. */
export type CallsMark = { locator: string | null; calls: number; at: string };

export type Allocation = {
  readonly usage: Usage | null;
  observe(usage: Usage | null): void;
  /** Calls the run already spent: none for a new run (the last one ended), none after the pause its cap imposed. */
  spentBefore(mark: CallsMark | null): number;
  /** Before one call: throws RetryLaterError when it would spend past the org's share or the run's calls; counts it. */
  spend(run: RunCalls, request: { method: string; path: string }): void;
};

export function createAllocation(policy: AllocationPolicy, now: () => number = Date.now): Allocation {
  let usage: Usage | null = null;
  const stop = (request: { method: string; path: string }, detail: string) =>
    new RetryLaterError({ ...request, status: null, detail, retryAt: new Date(now() + policy.pauseMs) });
  return {
    get usage() {
      return usage;
    },
    observe(next) {
      if (next) usage = next;
    },
    spentBefore(mark) {
      // A mark without an open query is the end of the last run: this is a new one.
      if (!mark || mark.locator === null) return 0;
      const pausedFor = now() - Date.parse(mark.at);
      return mark.calls >= policy.maxCallsPerRun && pausedFor >= policy.pauseMs ? 0 : mark.calls;
    },
    spend(run, request) {
      if (usage && usage.max > 0 && usage.used + 1 > (usage.max * policy.maxUsagePercent) / 100) {
        const percent = Math.round((usage.used / usage.max) * 1000) / 10;
        throw stop(request, `the org has used ${usage.used} of its ${usage.max} daily API calls (${percent}%); this connection stops at ${policy.maxUsagePercent}% to leave the rest to the org's other integrations`);
      }
      if (run.calls >= policy.maxCallsPerRun) {
        throw stop(request, `this run has spent its ${policy.maxCallsPerRun} API calls (maxCallsPerRun); it goes on from its checkpoint later`);
      }
      run.calls += 1;
    },
  };
}
