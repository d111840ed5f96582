import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedInput } from '../src/inbound/ledger.ts';
import { RECEIPT_BATCHES, receiptBatcher } from '../src/inbound/receipt-batcher.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace } from './support/workspaces.ts';

let db: TestDatabase;
let token: string;
let workspaceId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const { workspace } = await makeWorkspace(db.pool, 'Batched', 'help@batched.test');
  token = workspace.inboundToken;
  workspaceId = workspace.id;
}, 60_000);
afterAll(async () => db?.close());

let seq = 0;
const receipt = (key = `batch-${++seq}`, raw = Buffer.from(`From: p@initech.test\r\nSubject: ${key}\r\n\r\nHello.\r\n`)): ReceivedInput => ({ source: 'mime', raw, dedupeKey: `mime:${key}`, messageId: `${key}@initech.test`, tokens: ['nobody', token] });
const rows = async (ids: string[]) =>
  (await db.pool.query(`SELECT id, dedupe_key, workspace_id, raw, status FROM inbound_emails WHERE id = ANY($1) ORDER BY id`, [ids])).rows;

describe('receipt batches', () => {
  it('stores concurrent receipts together, each answered with its own row, attributed and byte for byte; a repeated delivery is the first one’s duplicate', async () => {
    const batcher = receiptBatcher(db.pool);
    const inputs = Array.from({ length: 40 }, () => receipt());
    // Twice in the same burst, and once more of one stored before.
    inputs.push({ ...inputs[3]! });
    const results = await Promise.all(inputs.map((input) => batcher.store(input, false)));
    expect(results.slice(0, 40).every((r) => !r.duplicate)).toBe(true);
    expect(results[40]).toEqual({ id: results[3]!.id, duplicate: true });
    expect(new Set(results.map((r) => r.id)).size).toBe(40);
    const stored = await rows(results.map((r) => r.id));
    expect(stored).toHaveLength(40);
    for (const [i, input] of inputs.slice(0, 40).entries()) {
      const row = stored.find((r) => r.id === results[i]!.id)!;
      expect(row.dedupe_key).toBe(input.dedupeKey);
      expect(Buffer.compare(row.raw, input.raw)).toBe(0);
      expect(row).toMatchObject({ status: 'received', workspace_id: workspaceId });
    }
    const again = await batcher.store({ ...inputs[7]! }, false);
    expect(again).toEqual({ id: results[7]!.id, duplicate: true });
  });

  it('a receipt the database refuses fails alone; the others of its batch are stored', async () => {
    const batcher = receiptBatcher(db.pool);
    // A NUL in a text column is refused by PostgreSQL: that statement fails, taking its batch with it.
    const bad = { ...receipt(), messageId: 'bad\u0000id@initech.test' };
    const inputs = [receipt(), receipt(), bad, receipt(), receipt()];
    const settled = await Promise.allSettled(inputs.map((input) => batcher.store(input, false)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const ids = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.id] : []));
    expect(await rows(ids)).toHaveLength(4);
  });

  it('stores a payload larger than a batch’s bytes alone, and every receipt of a long burst once', async () => {
    const batcher = receiptBatcher(db.pool);
    const big = receipt(undefined, Buffer.alloc(RECEIPT_BATCHES.maxBytes + 1, 'a'));
    const inputs = [receipt(), big, ...Array.from({ length: 100 }, () => receipt())];
    const results = await Promise.all(inputs.map((input) => batcher.store(input, true)));
    expect(new Set(results.map((r) => r.id)).size).toBe(inputs.length);
    expect(await rows(results.map((r) => r.id))).toHaveLength(inputs.length);
    const { rows: sizes } = await db.pool.query(`SELECT raw_size FROM inbound_emails WHERE id = $1`, [results[1]!.id]);
    expect(sizes[0].raw_size).toBe(RECEIPT_BATCHES.maxBytes + 1);
  });
});
