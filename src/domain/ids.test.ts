import { describe, expect, it } from 'vitest';
import { ID_PREFIX, PLAIN_ID, isId, newId } from './ids.ts';

describe('ids', () => {
  it("looks like Plain's ids for every kind", () => {
    for (const kind of Object.keys(ID_PREFIX) as (keyof typeof ID_PREFIX)[]) {
      const id = newId(kind);
      expect(id).toMatch(PLAIN_ID);
      expect(id.startsWith(`${ID_PREFIX[kind]}_`)).toBe(true);
      expect(isId(kind, id)).toBe(true);
    }
    expect(newId('customer')).toMatch(/^c_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('sorts in creation order, even within one millisecond', () => {
    const now = Date.now();
    const ids = Array.from({ length: 1000 }, () => newId('thread', now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carries the given time, so imported history sorts by its own time', () => {
    const old = newId('thread', Date.parse('2019-05-01T00:00:00Z'));
    expect(old < newId('thread')).toBe(true);
  });

  it('rejects other shapes', () => {
    expect(isId('customer', 'c_123')).toBe(false);
    expect(isId('customer', 'th_01H14DD1YNMMQ5V4Q3FDBVX2A2')).toBe(false);
    expect(isId('customer', 'c_01H14DD1YNMMQ5V4Q3FDBVX2AU')).toBe(false); // U is not Crockford
  });
});
