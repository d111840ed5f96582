import { describe, expect, it } from 'vitest';
import { parseMailDate } from './mail-date.ts';

describe('Date headers by RFC 5322', () => {
  it.each([
    ['Thu, 5 Apr 2012 16:59:01 +0200', '2012-04-05T14:59:01.000Z'],
    ['Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (standard time))', '2018-04-27T18:00:00.000Z'],
    ['27 Apr 2018 19:00 -0500', '2018-04-28T00:00:00.000Z'],
    ['Mon, 2 Nov 26 09:00:00 GMT', '2026-11-02T09:00:00.000Z'],
    ['Mon, 2 Nov 1998 09:00:00 EST', '1998-11-02T14:00:00.000Z'],
    ['Thu,  7 Mar 2024 07:30:24 +0000 (UTC)', '2024-03-07T07:30:24.000Z'],
    ['2026-11-02T09:00:00Z', '2026-11-02T09:00:00.000Z'],
    ['Fri, 1 Aug 2014 16:45:32 -04:00', '2014-08-01T20:45:32.000Z'],
  ])('reads %s', (value, iso) => {
    expect(parseMailDate(value)?.toISOString()).toBe(iso);
  });

  it.each([
    // Postmark passes this one through; V8's Date reads it, a mail parser must not.
    'Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (stand',
    'Fri, 27 Apr 2018 19:00:00',
    'Fri, 31 Apr 2018 19:00:00 +0100',
    'Fri, 27 Foo 2018 19:00:00 +0100',
    'Fri, 27 Apr 2018 25:00:00 +0100',
    'yesterday',
    '',
  ])('does not read %j', (value) => {
    expect(parseMailDate(value)).toBeNull();
  });
});
