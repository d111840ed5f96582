import { describe, expect, it } from 'vitest';
import { firstIdAt } from './id-time.ts';
import { newId } from './ids.ts';

describe('firstIdAt', () => {
  it('sorts after every id made earlier and before every id made at or after the moment', () => {
    const at = new Date('2026-11-30T09:00:00.000Z');
    const bound = firstIdAt('webhookDelivery', at);
    // In time order: newId is monotonic within a process, so an earlier time after a later one sorts after it.
    expect(newId('webhookDelivery', at.getTime() - 1) < bound).toBe(true);
    expect(newId('webhookDelivery', at.getTime()) >= bound).toBe(true);
    expect(newId('webhookDelivery', at.getTime() + 1) > bound).toBe(true);
    expect(bound.startsWith('whd_')).toBe(true);
  });
});
