import type { Logger } from 'pino';
import type { PgBoss } from 'pg-boss';
import type { DeliveryDeps } from '../events/deliver.ts';
import { startDeliveryLoop } from '../events/delivery-loop.ts';
import { relayEvents } from '../events/relay.ts';
import { coalesce } from '../events/coalesce.ts';

export { DELIVERIES_PER_TARGET } from '../events/delivery-loop.ts';
const RELAY_INTERVAL_MS = 200;

/** The relay loop (outbox -> deliveries, auto-response jobs) and the webhook delivery loop. */
export async function startEventsWorker(boss: PgBoss, deps: DeliveryDeps & { boss: PgBoss; autoResponseDelaySeconds: number }, logger: Logger): Promise<{ stop(): Promise<void>; kick(): void }> {
  const deliveries = startDeliveryLoop(deps, logger);
  // This process's own delivery loop is woken directly; others by the relay's NOTIFY.
  const relaying = coalesce(async () => {
    while ((await relayEvents({ pool: deps.pool, boss, autoResponseDelaySeconds: deps.autoResponseDelaySeconds })) > 0) deliveries.wake();
  }, (err) => logger.error({ err }, 'event relay failed'));
  const relay = () => relaying.run();
  const timer = setInterval(relay, RELAY_INTERVAL_MS);
  timer.unref();
  return {
    kick: relay,
    stop: async () => {
      clearInterval(timer);
      await relaying.settled();
      await deliveries.stop();
    },
  };
}
