import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../src/import/byte-budget.ts';

/** The import's byte budget: what waits, in which order, and what an abort or a debt does. */

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('ByteBudget', () => {
  it('lets takers through while the bytes fit, then first come first served as bytes are given back', async () => {
    const budget = new ByteBudget(10);
    await budget.take(6);
    const order: string[] = [];
    const a = budget.take(5).then(() => order.push('a'));
    // Small enough to fit, but it waits behind the first waiter.
    const b = budget.take(1).then(() => order.push('b'));
    await settled();
    expect(order).toEqual([]);
    expect(budget.fits(1)).toBe(false);
    expect(budget.waiting).toBe(2);
    budget.give(6);
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    expect(budget.held).toBe(6);
  });

  it('a request larger than the whole budget goes through once nothing else is held', async () => {
    const budget = new ByteBudget(10);
    await budget.take(4);
    let done = false;
    const big = budget.take(25).then(() => (done = true));
    await settled();
    expect(done).toBe(false);
    budget.give(4);
    await big;
    expect(budget.held).toBe(25);
  });

  it('an aborted taker leaves the queue, and the one behind it moves up', async () => {
    const budget = new ByteBudget(10);
    await budget.take(8);
    const controller = new AbortController();
    const first = budget.take(5, controller.signal).then(() => 'granted', (err: Error) => err.message);
    let second = false;
    const behind = budget.take(2).then(() => (second = true));
    await settled();
    expect(second).toBe(false);
    controller.abort(new Error('the run ended'));
    expect(await first).toBe('the run ended');
    await behind;
    expect(second).toBe(true);
    expect(budget.held).toBe(10);
    await expect(budget.take(1, controller.signal)).rejects.toThrow('the run ended');
  });

  it('a charge beyond the budget holds back the next takers until it is given back', async () => {
    const budget = new ByteBudget(10);
    await budget.take(5);
    budget.charge(7);
    expect(budget.held).toBe(12);
    let through = false;
    const next = budget.take(1).then(() => (through = true));
    await settled();
    expect(through).toBe(false);
    budget.give(7);
    await next;
    expect(budget.held).toBe(6);
  });
});
