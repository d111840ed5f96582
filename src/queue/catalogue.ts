import type { Queue } from 'pg-boss';
import { z } from 'zod';

type QueueSettings = Omit<Queue, 'name'>;

/**
 * A worker refreshes its active jobs' heartbeat every half of this; a job whose heartbeat is this
 * old (its process was killed) is failed by the supervisor (every SUPERVISE_SECONDS) and retried
 * after its retry delay. Without it, a job that was active in a killed process waited out its
 * whole expiry (5 minutes for an email) before anyone picked it up again.
 */
export const HEARTBEAT_SECONDS = 15;
export const SUPERVISE_SECONDS = 10;

/**
 * Every queue intake uses, with its options and the schema of its payload, in one place (the
 * port's catalogue: queue name -> payload type). Producers send through `sendInTransaction`, which
 * takes the payload's type from here, so a wrong payload fails to compile; workers parse with the
 * same schema and fail (never complete) a job whose payload does not match. The queues are created
 * at start so a producer never sends to a missing queue. Webhook deliveries are not here: they are
 * claimed straight from the webhook_deliveries table (src/events/claim-deliveries.ts).
 */
export const QUEUES = Object.freeze({
  /**
   * One raw inbound email to process: jobs an earlier version queued. Emails are now claimed
   * straight from the inbound ledger (src/inbound/processing-loop.ts); a job left here only makes
   * its email due (src/jobs/inbound-worker.ts), so an upgrade loses none.
   */
  inboundEmail: Object.freeze({
    name: 'inbound-email',
    payload: z.object({ inboundEmailId: z.string().min(1) }),
    // notify: workers wake on commit instead of waiting out a polling interval.
    options: { retryLimit: 8, retryDelay: 5, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 300, heartbeatSeconds: HEARTBEAT_SECONDS, notify: true } satisfies QueueSettings,
  }),
  /** One auto-response, sent after its delay. */
  autoResponse: Object.freeze({
    name: 'auto-response',
    payload: z.object({ workspaceId: z.string().min(1), threadId: z.string().min(1) }),
    options: { retryLimit: 5, retryDelay: 30, retryBackoff: true, expireInSeconds: 120, heartbeatSeconds: HEARTBEAT_SECONDS } satisfies QueueSettings,
  }),
  /** One import run of one connection. */
  importRun: Object.freeze({
    name: 'import-run',
    payload: z.object({ runId: z.string().min(1) }),
    options: { retryLimit: 20, retryDelay: 30, retryBackoff: true, retryDelayMax: 1800, expireInSeconds: 3600, heartbeatSeconds: HEARTBEAT_SECONDS } satisfies QueueSettings,
  }),
});

export type QueueDef = (typeof QUEUES)[keyof typeof QUEUES];
export type QueueName = QueueDef['name'];
export type PayloadOf<Q extends QueueDef> = z.infer<Q['payload']>;
