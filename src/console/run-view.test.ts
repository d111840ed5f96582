import { describe, expect, it } from 'vitest';
import type { ImportRun } from '../import/runs.ts';
import { runView } from './run-view.ts';

const run = (over: Partial<ImportRun>): ImportRun => ({
  id: 'ir_1',
  workspaceId: 'w_1',
  connectionId: 'ic_1',
  kind: 'full',
  status: 'running',
  counts: {},
  progress: {},
  error: null,
  retryAt: null,
  attempts: 1,
  createdAt: new Date('2026-11-30T10:00:00Z'),
  startedAt: new Date('2026-11-30T10:00:00Z'),
  finishedAt: null,
  ...over,
});

describe('runView', () => {
  it('puts finished streams first, then the running one, then record types counted within them', () => {
    const v = runView(
      run({
        progress: { tickets: { pages: 2, done: false }, users: { pages: 3, done: true } },
        counts: { users: { created: 90, linked: 10, skipped: 0, failed: 0 }, comments: { created: 40, linked: 0, skipped: 0, failed: 0 }, tickets: { created: 20, linked: 0, skipped: 0, failed: 0 } },
      }),
      new Date('2026-11-30T10:00:10Z'),
    );
    expect(v.rows.map((r) => [r.name, r.state, r.pages])).toEqual([
      ['users', 'done', 3],
      ['tickets', 'running', 2],
      ['comments', 'running', null],
    ]);
    expect(v.processed).toBe(160);
    expect(v.rate).toBe(16);
    expect(v.rows[0]!.parts).toEqual({ created: 90, linked: 10, skipped: 0, failed: 0 });
    expect(v.rows[0]!.eta).toBe('done');
    expect(v.rows[1]!.eta).toBe('unknown (no total announced)');
  });

  it('gives an ETA where a stream announces its total, and marks every row done once the run succeeded', () => {
    const now = new Date('2026-11-30T10:00:10Z');
    const withTotal = runView(run({ progress: { users: { pages: 1, done: false, total: 300 } as never }, counts: { users: { created: 100, linked: 0, skipped: 0, failed: 0 } } }), now);
    expect(withTotal.rows[0]!.eta).toBe('20 s');
    const done = runView(run({ status: 'succeeded', finishedAt: now, progress: { users: { pages: 1, done: true } }, counts: { comments: { created: 1, linked: 0, skipped: 0, failed: 0 } } }), now);
    expect(done.active).toBe(false);
    expect(done.rows.every((r) => r.state === 'done')).toBe(true);
  });
});
