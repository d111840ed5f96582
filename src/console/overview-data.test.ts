import { describe, expect, it } from 'vitest';
import { embeddableJson } from './overview-data.ts';

describe('embeddableJson', () => {
  it('cannot close the script element it sits in, and parses back to the same value', () => {
    const value = { label: '</script><script>alert(1)</script>', note: '<!-- & \u2028' };
    const text = embeddableJson(value);
    expect(text).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
