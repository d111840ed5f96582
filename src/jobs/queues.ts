import type { Queue } from 'pg-boss';

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
 * Every queue intake uses, with its options, in one place. Workers subscribe by these names;
 * the queues are created at start so a producer never sends to a missing queue.
 */
export const QUEUES = Object.freeze({
  /** One raw inbound email to normalise, route and write. */
  inboundEmail: Object.freeze({
    name: 'inbound-email',
    // notify: workers wake on commit instead of waiting out a polling interval.
    options: { retryLimit: 8, retryDelay: 5, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 300, heartbeatSeconds: HEARTBEAT_SECONDS, notify: true } satisfies QueueSettings,
  }),
  /** One attempt of one webhook delivery; the next attempt is a new job on Plain's schedule. */
  webhookDelivery: Object.freeze({
    name: 'webhook-delivery',
    options: { retryLimit: 3, retryDelay: 5, expireInSeconds: 60, heartbeatSeconds: HEARTBEAT_SECONDS, notify: true } satisfies QueueSettings,
  }),
  /** One auto-response, sent after its delay. */
  autoResponse: Object.freeze({
    name: 'auto-response',
    options: { retryLimit: 5, retryDelay: 30, retryBackoff: true, expireInSeconds: 120, heartbeatSeconds: HEARTBEAT_SECONDS } satisfies QueueSettings,
  }),
  /** One import run of one connection. */
  importRun: Object.freeze({
    name: 'import-run',
    options: { retryLimit: 20, retryDelay: 30, retryBackoff: true, retryDelayMax: 1800, expireInSeconds: 3600, heartbeatSeconds: HEARTBEAT_SECONDS } satisfies QueueSettings,
  }),
});

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES]['name'];
