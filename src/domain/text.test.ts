import { describe, expect, it } from 'vitest';
import { capText } from './text.ts';

describe('capText', () => {
  it('keeps a value within the limit whole, with no size', () => {
    expect(capText('héllo', 5)).toEqual({ value: 'héllo', fullSize: null });
    expect(capText(null, 5)).toEqual({ value: null, fullSize: null });
  });

  it('cuts a longer value and gives the UTF-8 size of the whole', () => {
    expect(capText('héllo wörld', 5)).toEqual({ value: 'héllo', fullSize: 13 });
  });

  it('never cuts a surrogate pair in half', () => {
    expect(capText('ab😀cd', 3)).toEqual({ value: 'ab', fullSize: 8 });
  });

  it('reports the size a caller already cut from, when larger than what it passes', () => {
    expect(capText('hello', 10, 5_000)).toEqual({ value: 'hello', fullSize: 5_000 });
    expect(capText('hello', 10, 5)).toEqual({ value: 'hello', fullSize: null });
  });
});
