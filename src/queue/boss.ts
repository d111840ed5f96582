import { PgBoss, type Db, type SendOptions } from 'pg-boss';
import type { Queryable } from '../db/pool.ts';
import { QUEUES, SUPERVISE_SECONDS, type PayloadOf, type QueueDef } from './catalogue.ts';

export const BOSS_SCHEMA = 'pgboss';
/** How long a stop waits for the jobs in hand before failing them back to the queue. */
export const STOP_TIMEOUT_MS = 10_000;

export type Jobs = { boss: PgBoss; stop(): Promise<void> };

/**
 * Starts this process's one pg-boss instance on our database: it migrates its own schema and
 * creates our queues. `work` is off for commands that only enqueue (the CLI).
 */
export async function startJobs(
  connectionString: string,
  options: { onError: (err: Error) => void; supervise?: boolean; schedule?: boolean },
): Promise<Jobs> {
  const boss = new PgBoss({
    connectionString,
    schema: BOSS_SCHEMA,
    max: 5,
    application_name: 'intake-jobs',
    supervise: options.supervise ?? true,
    // Expiry and heartbeat checks every SUPERVISE_SECONDS, so a killed process's jobs come back within a minute.
    superviseIntervalSeconds: SUPERVISE_SECONDS,
    monitorIntervalSeconds: SUPERVISE_SECONDS,
    schedule: options.schedule ?? true,
    useListenNotify: true,
  });
  boss.on('error', options.onError);
  await boss.start();
  const existing = new Map((await boss.getQueues()).map((q) => [q.name, q]));
  for (const queue of Object.values(QUEUES)) {
    const current = existing.get(queue.name);
    if (!current) await boss.createQueue(queue.name, queue.options);
    // A queue created by an older release keeps its old options until told otherwise.
    else if (Object.entries(queue.options).some(([key, value]) => current[key as keyof typeof current] !== value)) await boss.updateQueue(queue.name, queue.options);
  }
  let stopped: Promise<void> | undefined;
  return {
    boss,
    // Workers finish their batch or, past the timeout, fail it back to the queue (retried after
    // its retry delay); nothing is left `active` for the supervisor to find.
    stop: () => (stopped ??= boss.stop({ graceful: true, timeout: STOP_TIMEOUT_MS, close: true })),
  };
}

/** pg-boss's database port over our transaction client, so a job commits or rolls back with our rows. */
export function jobDb(tx: Queryable): Db {
  return { executeSql: (text, values) => tx.query(text, values) };
}

/**
 * Enqueues inside the caller's transaction: the job exists if and only if the transaction commits.
 * The payload's type is the queue's; it is also checked at run time, so no producer sends a job
 * its worker would refuse.
 */
export async function sendInTransaction<Q extends QueueDef>(
  boss: PgBoss,
  tx: Queryable,
  queue: Q,
  data: PayloadOf<Q>,
  options: Omit<SendOptions, 'db'> = {},
): Promise<string> {
  const payload = queue.payload.parse(data) as object;
  const id = await boss.send(queue.name, payload, { ...options, db: jobDb(tx) });
  if (id === null) throw new Error(`queue ${queue.name} refused the job (singleton or throttle)`);
  return id;
}
