import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { z } from 'zod';
import { sendAutoResponse, type AutoResponderDeps } from '../events/auto-responder.ts';
import { QUEUES } from './queues.ts';

const job = z.object({ workspaceId: z.string().min(1), threadId: z.string().min(1) });

/** Sends the auto-response of a thread a customer's email opened, once its delay has passed. */
export async function startAutoResponseWorker(boss: PgBoss, deps: AutoResponderDeps, logger: Logger): Promise<void> {
  await boss.work(QUEUES.autoResponse.name, { localConcurrency: 2, pollingIntervalSeconds: 2 }, async ([j]) => {
    if (!j) return;
    const data = job.safeParse(j.data);
    if (!data.success) {
      logger.error({ jobId: j.id, data: j.data }, 'auto-response job with an invalid payload; dropped');
      return;
    }
    // The email that opened the thread: its first inbound entry.
    const { rows } = await deps.pool.query<{ id: string }>(
      `SELECT id FROM timeline_entries WHERE workspace_id = $1 AND thread_id = $2 AND kind = 'inbound_email' ORDER BY created_at, id LIMIT 1`,
      [data.data.workspaceId, data.data.threadId],
    );
    if (!rows[0]) return;
    const result = await sendAutoResponse(deps, { ...data.data, entryId: rows[0].id });
    logger.info({ threadId: data.data.threadId, result }, 'auto-response');
  });
}
