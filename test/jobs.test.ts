import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/db/pool.ts';
import { sendInTransaction, startJobs, type Jobs } from '../src/queue/boss.ts';
import { HEARTBEAT_SECONDS, QUEUES } from '../src/queue/catalogue.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

let db: TestDatabase;
let jobs: Jobs;
const errors: Error[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  jobs = await startJobs(db.url, { onError: (err) => errors.push(err), supervise: false, schedule: false });
});
afterAll(async () => {
  await jobs.stop();
  await db.close();
});

describe('jobs', () => {
  it('creates every queue with its options, a heartbeat on each', async () => {
    for (const queue of Object.values(QUEUES)) {
      const q = await jobs.boss.getQueue(queue.name);
      expect(q).toMatchObject({ name: queue.name, ...queue.options, heartbeatSeconds: HEARTBEAT_SECONDS });
    }
  });

  it('brings a queue an older release created up to date at start', async () => {
    await jobs.boss.updateQueue(QUEUES.inboundEmail.name, { heartbeatSeconds: null as unknown as number, expireInSeconds: 900 });
    expect(await jobs.boss.getQueue(QUEUES.inboundEmail.name)).toMatchObject({ heartbeatSeconds: null, expireInSeconds: 900 });
    const second = await startJobs(db.url, { onError: (err) => errors.push(err), supervise: false, schedule: false });
    await second.stop();
    expect(await jobs.boss.getQueue(QUEUES.inboundEmail.name)).toMatchObject(QUEUES.inboundEmail.options);
  });

  it('a second instance on the same database starts cleanly (queues already there)', async () => {
    const second = await startJobs(db.url, { onError: (err) => errors.push(err), supervise: false, schedule: false });
    await second.stop();
  });

  it('a job sent inside a transaction exists if and only if the transaction commits', async () => {
    await db.pool.query('CREATE TABLE demo (id text PRIMARY KEY)');
    const committedId = await withTransaction(db.pool, async (tx) => {
      await tx.query(`INSERT INTO demo VALUES ('kept')`);
      return sendInTransaction(jobs.boss, tx, QUEUES.inboundEmail, { inboundEmailId: 'kept' });
    });
    let rolledBackId: string | undefined;
    await expect(
      withTransaction(db.pool, async (tx) => {
        await tx.query(`INSERT INTO demo VALUES ('lost')`);
        rolledBackId = await sendInTransaction(jobs.boss, tx, QUEUES.inboundEmail, { inboundEmailId: 'lost' });
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');

    expect(rolledBackId).toBeDefined();
    expect(await jobs.boss.getJobById(QUEUES.inboundEmail.name, rolledBackId!)).toBeNull();
    const job = await jobs.boss.getJobById(QUEUES.inboundEmail.name, committedId);
    expect(job?.data).toEqual({ inboundEmailId: 'kept' });
    const { rows } = await db.pool.query('SELECT id FROM demo ORDER BY id');
    expect(rows).toEqual([{ id: 'kept' }]);

    // And a worker receives exactly the committed one.
    const fetched = await jobs.boss.fetch(QUEUES.inboundEmail.name, { batchSize: 10 });
    expect(fetched.map((j) => j.data)).toEqual([{ inboundEmailId: 'kept' }]);
    expect(errors).toEqual([]);
  });

  it('refuses to send a payload the queue\'s worker would refuse, before anything is written', async () => {
    await expect(withTransaction(db.pool, (tx) => sendInTransaction(jobs.boss, tx, QUEUES.inboundEmail, { inboundEmailId: '' }))).rejects.toThrow(/too_small|at least 1/i);
    // @ts-expect-error: a payload of another queue does not compile
    const wrong: Parameters<typeof sendInTransaction<typeof QUEUES.importRun>>[3] = { inboundEmailId: 'x' };
    await expect(withTransaction(db.pool, (tx) => sendInTransaction(jobs.boss, tx, QUEUES.importRun, wrong))).rejects.toThrow(/runId/);
  });
});
