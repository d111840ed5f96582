import type { Queue } from 'pg-boss';

type QueueSettings = Omit<Queue, 'name'>;

/**
 * Every queue intake uses, with its options, in one place. Workers subscribe by these names;
 * the queues are created at start so a producer never sends to a missing queue.
 */
export const QUEUES = Object.freeze({
  /** One raw inbound email to normalise, route and write. */
  inboundEmail: Object.freeze({
    name: 'inbound-email',
    // notify: workers wake on commit instead of waiting out a polling interval.
    options: { retryLimit: 8, retryDelay: 5, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 300, notify: true } satisfies QueueSettings,
  }),
  /** One attempt of one webhook delivery; the next attempt is a new job on Plain's schedule. */
  webhookDelivery: Object.freeze({
    name: 'webhook-delivery',
    options: { retryLimit: 3, retryDelay: 5, expireInSeconds: 60, notify: true } satisfies QueueSettings,
  }),
  /** One auto-response, sent after its delay. */
  autoResponse: Object.freeze({
    name: 'auto-response',
    options: { retryLimit: 5, retryDelay: 30, retryBackoff: true, expireInSeconds: 120 } satisfies QueueSettings,
  }),
  /** One import run of one connection. */
  importRun: Object.freeze({
    name: 'import-run',
    options: { retryLimit: 20, retryDelay: 30, retryBackoff: true, retryDelayMax: 1800, expireInSeconds: 3600 } satisfies QueueSettings,
  }),
});

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES]['name'];
