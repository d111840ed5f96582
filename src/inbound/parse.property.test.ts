import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnparseableEmailError } from './parse-stored.ts';
import { parseReport } from './parse-report.ts';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/inbound/', import.meta.url));
const emls = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.eml')).map((f) => fs.readFileSync(path.join(FIXTURES, f)));
const postmarks = fs.readdirSync(FIXTURES).filter((f) => /^\d{3}-.*(?<!expected)\.json$/.test(f)).map((f) => fs.readFileSync(path.join(FIXTURES, f)));

/** The whole no-database pipeline must return a report or a clear UnparseableEmailError, never anything else. */
async function survives(file: string, raw: Buffer): Promise<void> {
  try {
    const report = await parseReport(file, raw);
    expect(Array.isArray(report.attachments)).toBe(true);
  } catch (err) {
    if (!(err instanceof UnparseableEmailError)) throw err;
    expect(err.message.length).toBeGreaterThan(0);
  }
}

type Op =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'header'; name: string; value: string };

const mutation = (source: Buffer[]): fc.Arbitrary<{ base: Buffer; ops: Op[] }> =>
  fc.record({
    base: fc.constantFrom(...source),
    ops: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 80 }) }),
        fc.record({ kind: fc.constant('header' as const), name: fc.constantFrom('Content-Type', 'Content-Transfer-Encoding', 'From', 'Subject', 'Auto-Submitted', 'Return-Path', 'Message-ID', 'References'), value: fc.string({ unit: 'binary', maxLength: 120 }) }),
      ),
      { maxLength: 6 },
    ),
  });

function apply(base: Buffer, ops: Op[]): Buffer {
  let buf = Buffer.from(base);
  for (const op of ops) {
    const at = buf.length ? ('at' in op ? op.at % buf.length : 0) : 0;
    if (op.kind === 'flip') buf[at] = op.byte;
    else if (op.kind === 'cut') buf = buf.subarray(0, at);
    else if (op.kind === 'insert') buf = Buffer.concat([buf.subarray(0, at), Buffer.from(op.text, 'latin1'), buf.subarray(at)]);
    else buf = Buffer.concat([Buffer.from(`${op.name}: ${op.value}\r\n`, 'latin1'), buf]);
  }
  return buf;
}

describe('the parser never throws anything but a clear error', () => {
  it('on random bytes as MIME', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => survives('random.eml', Buffer.from(bytes))), { numRuns: 300 });
  });

  it('on random header-shaped text as MIME', async () => {
    const line = fc.tuple(fc.constantFrom('From', 'To', 'Cc', 'Subject', 'Content-Type', 'Content-Disposition', 'Date', 'Message-ID', 'In-Reply-To'), fc.string({ maxLength: 60 }));
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 12 }), fc.string({ maxLength: 400 }), async (headers, body) =>
        survives('headers.eml', Buffer.from(`${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`)),
      ),
      { numRuns: 300 },
    );
  });

  it('on mutated real messages', async () => {
    await fc.assert(fc.asyncProperty(mutation(emls), async ({ base, ops }) => survives('mutated.eml', apply(base, ops))), { numRuns: 300 });
  });

  it('on arbitrary and mutated JSON as Postmark', async () => {
    await fc.assert(fc.asyncProperty(fc.json(), async (json) => survives('random.json', Buffer.from(json))), { numRuns: 200 });
    await fc.assert(fc.asyncProperty(mutation(postmarks), async ({ base, ops }) => survives('mutated.json', apply(base, ops))), { numRuns: 200 });
  });
});
