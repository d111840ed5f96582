import type { QueueOptions } from 'pg-boss';

/**
 * Every queue intake uses, with its options, in one place. Workers subscribe by these names;
 * the queues are created at start so a producer never sends to a missing queue.
 */
export const QUEUES = Object.freeze({
  /** One raw inbound email to normalise, route and write. */
  inboundEmail: Object.freeze({
    name: 'inbound-email',
    options: { retryLimit: 8, retryDelay: 5, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 300 } satisfies QueueOptions,
  }),
  /** One webhook delivery attempt chain; its own schedule drives retries. */
  webhookDelivery: Object.freeze({
    name: 'webhook-delivery',
    options: { retryLimit: 0, expireInSeconds: 60 } satisfies QueueOptions,
  }),
  /** One import run of one connection. */
  importRun: Object.freeze({
    name: 'import-run',
    options: { retryLimit: 20, retryDelay: 30, retryBackoff: true, retryDelayMax: 1800, expireInSeconds: 3600 } satisfies QueueOptions,
  }),
});

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES]['name'];
