import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.ts';

describe('Semaphore', () => {
  it('hands places out in order and back on release', async () => {
    const s = new Semaphore(1);
    const first = await s.acquire();
    const order: string[] = [];
    const second = s.acquire().then((release) => (order.push('second'), release));
    const third = s.acquire().then((release) => (order.push('third'), release));
    first();
    (await second)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    expect(s.free).toBe(1);
  });

  it('drops a waiter that gives up, so its place is never granted to nobody', async () => {
    const s = new Semaphore(1);
    const held = await s.acquire();
    const gaveUp = new AbortController();
    const abandoned = s.acquire(gaveUp.signal);
    const next = s.acquire();
    gaveUp.abort(new Error('client left'));
    await expect(abandoned).rejects.toThrow('client left');
    held();
    (await next)();
    expect(s.free).toBe(1);
    await expect(s.acquire(AbortSignal.abort(new Error('already gone')))).rejects.toThrow('already gone');
    expect(s.free).toBe(1);
  });
});
