import { describe, expect, it } from 'vitest';
import { splitMbox } from './mbox.ts';

const message = (n: number, eol = '\n') => [`From: Customer ${n} <c${n}@initech.com>`, `Subject: Question ${n}`, '', `Body ${n}.`, '>From the start, it failed.', ''].join(eol);

describe('mbox exports', () => {
  it('splits at each separator line after a blank line, keeping every message byte for byte', () => {
    const file = Buffer.from(`From c1@initech.com Mon Nov  2 09:00:00 2026\n${message(1)}\nFrom - Tue Nov 03 10:00:00 2026\n${message(2)}\nFrom 1791234567890@xxx Wed Nov 04 11:00:00 +0000 2026\n${message(3)}`);
    const parts = splitMbox(file);
    expect(parts.map((p) => p.toString())).toEqual([
      `From c1@initech.com Mon Nov  2 09:00:00 2026\n${message(1)}`,
      `From - Tue Nov 03 10:00:00 2026\n${message(2)}`,
      `From 1791234567890@xxx Wed Nov 04 11:00:00 +0000 2026\n${message(3)}`,
    ]);
  });

  it('splits CRLF files and leaves a body line that merely starts with "From " alone', () => {
    const body = ['From: a@b.com', 'Subject: x', '', 'Hello,', '', 'From here on it works.', ''].join('\r\n');
    const file = Buffer.from(`From a@b.com Mon Nov  2 09:00:00 2026\r\n${body}\r\nFrom a@b.com Mon Nov  2 10:00:00 2026\r\n${body}`);
    const parts = splitMbox(file);
    expect(parts).toHaveLength(2);
    expect(parts[0]!.toString()).toBe(`From a@b.com Mon Nov  2 09:00:00 2026\r\n${body}`);
  });

  it('takes a file without a separator as one message', () => {
    const raw = Buffer.from(message(1));
    expect(splitMbox(raw)).toEqual([raw]);
  });
});
