import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { deliverOnce, type DeliveryDeps } from '../events/deliver.ts';
import { relayEvents } from '../events/relay.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { payloadOf, settleEach } from './settle-each.ts';

// Jobs outlive deploys: the payload is unknown until the catalogue's schema proves it.
const deliveryJob = QUEUES.webhookDelivery.payload;

// Per target and process: a slow receiver holds at most this many deliveries, never everyone's.
export const DELIVERIES_PER_TARGET = 2;
const RELAY_INTERVAL_MS = 200;

/** The relay loop (outbox -> deliveries, auto-response jobs) and the webhook delivery worker. */
export async function startEventsWorker(boss: PgBoss, deps: DeliveryDeps & { autoResponseDelaySeconds: number }, logger: Logger): Promise<{ stop(): Promise<void>; kick(): void }> {
  let running: Promise<void> | null = null;
  let again = false;
  const relay = () => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          while ((await relayEvents(deps)) > 0);
        } catch (err) {
          logger.error({ err }, 'event relay failed');
        }
      } while (again);
    })().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(relay, RELAY_INTERVAL_MS);
  timer.unref();

  await boss.work(
    QUEUES.webhookDelivery.name,
    { batchSize: 8, perJobResults: true, burstWhenBatchFull: true, localConcurrency: 4, localGroupConcurrency: DELIVERIES_PER_TARGET, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1 },
    settleEach(QUEUES.webhookDelivery.name, logger, async (job) => {
      const delivery = payloadOf(deliveryJob, job);
      try {
        return { result: await deliverOnce(deps, delivery) };
      } catch (err) {
        logger.error({ err, deliveryId: delivery.deliveryId }, 'webhook delivery attempt crashed');
        throw err;
      }
    }),
  );
  return {
    kick: relay,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
