import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { selectRecords } from './select-records.ts';
import { advanceWindow, afterCursor, nextLink, nextRecordsUrl, pageNumbers, startWindow, unseen } from './paginators.ts';

const broken = (detail: string) => new Error(`broken: ${detail}`);

describe('paginators', () => {
  it('after-cursor with an end flag: moves on, keeps the last cursor at the end, refuses more without a cursor', () => {
    expect(afterCursor({ after: 'c2', more: true }, 'c1', broken)).toEqual({ cursor: 'c2', done: false });
    expect(afterCursor({ after: 'c3', more: false }, 'c2', broken)).toEqual({ cursor: 'c3', done: true });
    expect(afterCursor({ after: null, more: false }, 'c2', broken)).toEqual({ cursor: 'c2', done: true });
    expect(() => afterCursor({ after: null, more: true }, 'c2', broken)).toThrow('broken: more pages announced without a cursor to them');
    expect(() => afterCursor({ after: '', more: true }, null, broken)).toThrow(/broken/);
  });

  it('HAL page numbers: the next number until the last page', () => {
    expect(pageNumbers({ number: 1, totalPages: 3 }, broken)).toEqual({ cursor: 2, done: false });
    expect(pageNumbers({ number: 3, totalPages: 3 }, broken)).toEqual({ cursor: 4, done: true });
    expect(pageNumbers({ number: 1, totalPages: 0 }, broken)).toEqual({ cursor: 2, done: true });
    expect(() => pageNumbers({ number: 1.5, totalPages: 3 }, broken)).toThrow(/out of range/);
  });

  it('next links: present means more, absent or empty means the end', () => {
    expect(nextLink('https://api.example.com/x?page=2')).toEqual({ cursor: 'https://api.example.com/x?page=2', done: false });
    expect(nextLink(null)).toEqual({ cursor: null, done: true });
    expect(nextLink(undefined)).toEqual({ cursor: null, done: true });
    expect(nextLink('')).toEqual({ cursor: null, done: true });
  });

  it('nextRecordsUrl: done:false without a URL is an error, never the end', () => {
    expect(nextRecordsUrl({ done: false, nextRecordsUrl: '/services/data/v62.0/query/01g-2000' }, broken)).toEqual({ cursor: '/services/data/v62.0/query/01g-2000', done: false });
    expect(nextRecordsUrl({ done: true }, broken)).toEqual({ cursor: null, done: true });
    expect(() => nextRecordsUrl({ done: false }, broken)).toThrow('broken: done is false but there is no nextRecordsUrl');
  });

  it('time windows: follow `after` inside a window, move to the last time seen at the cap, skip what was seen at that time', () => {
    const start = startWindow('2024-01-01T00:00:00Z');
    const r = (id: string, at: string) => ({ id, at });
    expect(advanceWindow(start, { records: [r('1', '2024-01-02'), r('2', '2024-01-03')], after: '2', capReached: false }, broken)).toEqual({ cursor: { ...start, after: '2' }, done: false });
    // The cap: a new window from the last time, remembering the ids seen at exactly that time.
    const capped = advanceWindow({ ...start, after: '9998' }, { records: [r('7', '2024-01-04'), r('8', '2024-01-05'), r('9', '2024-01-05')], after: '10000', capReached: true }, broken);
    expect(capped).toEqual({ cursor: { since: '2024-01-05', after: null, seenAtSince: ['8', '9'] }, done: false });
    expect(unseen(capped.cursor, [r('8', '2024-01-05'), r('9', '2024-01-05'), r('10', '2024-01-05'), r('11', '2024-01-06')], (x) => x).map((x) => x.id)).toEqual(['10', '11']);
    // The end of the set: done, and the next run starts at the last time seen.
    expect(advanceWindow(capped.cursor, { records: [r('10', '2024-01-05'), r('11', '2024-01-06')], after: null, capReached: false }, broken)).toEqual({
      cursor: { since: '2024-01-06', after: null, seenAtSince: ['11'] },
      done: true,
    });
    // Nothing new: the window stays where it was.
    expect(advanceWindow(capped.cursor, { records: [], after: null, capReached: false }, broken)).toEqual({ cursor: capped.cursor, done: true });
    // A whole capped window at one time cannot move: an error, not a loop.
    const stuck = { since: '2024-01-05', after: null, seenAtSince: ['8', '9'] };
    expect(() => advanceWindow(stuck, { records: [r('8', '2024-01-05'), r('9', '2024-01-05')], after: '10000', capReached: true }, broken)).toThrow(/share the time 2024-01-05/);
  });
});

describe('the record selector', () => {
  it('keeps readable records and turns each other one into a failure with its id and an excerpt', () => {
    const schema = z.object({ id: z.number(), email: z.string() });
    const { records, failures } = selectRecords([{ id: 1, email: 'a@x.test' }, { id: 2, email: 42 }, 'garbage', { Id: '003ABC', email: null }], schema, 'person', 'contact');
    expect(records).toEqual([{ id: 1, email: 'a@x.test' }]);
    expect(failures).toEqual([
      { recordType: 'person', sourceId: '2', reason: expect.stringMatching(/^unreadable contact \(email\): /), excerpt: '{"id":2,"email":42}' },
      { recordType: 'person', sourceId: '?', reason: expect.stringMatching(/^unreadable contact: /), excerpt: '"garbage"' },
      { recordType: 'person', sourceId: '003ABC', reason: expect.stringMatching(/^unreadable contact \(id\): /), excerpt: '{"Id":"003ABC","email":null}' },
    ]);
  });
});
