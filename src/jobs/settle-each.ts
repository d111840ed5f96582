import type { JobResult } from 'pg-boss';
import type { Logger } from 'pino';
import { z } from 'zod';

/** A payload no retry can fix (jobs outlive deploys): the job fails at once, never completes. */
export class InvalidPayloadError extends Error {}

/** The job's payload as `schema` proves it, or an InvalidPayloadError. */
export function payloadOf<T>(schema: z.ZodType<T>, job: { data: unknown }): T {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) throw new InvalidPayloadError(`invalid payload: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
  return parsed.data;
}

/**
 * A batch handler (pg-boss `perJobResults`) that runs `handle` on every job of the batch at once
 * and settles each job on its own: one that throws fails (and retries) alone, the rest complete.
 * An invalid payload goes straight to `failed`, skipping retries. `handle` logs its own failures;
 * invalid payloads are logged here.
 */
export function settleEach<J extends { id: string; data: unknown }>(queue: string, logger: Logger, handle: (job: J) => Promise<object>): (jobs: J[]) => Promise<JobResult[]> {
  return (jobs) =>
    Promise.all(
      jobs.map(async (job): Promise<JobResult> => {
        try {
          return { id: job.id, status: 'completed', output: await handle(job) };
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          if (err instanceof InvalidPayloadError) {
            logger.error({ queue, jobId: job.id, data: job.data, error: message }, 'job with an invalid payload; failed without retries');
            return { id: job.id, status: 'deadletter', output: { message } };
          }
          return { id: job.id, status: 'failed', output: { message } };
        }
      }),
    );
}
