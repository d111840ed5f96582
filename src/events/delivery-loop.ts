import { channelListener } from '../db/channel-listener.ts';
import type { Logger } from 'pino';
import { withTransaction } from '../db/pool.ts';
import { claimDueDeliveries, type ClaimedDelivery } from './claim-deliveries.ts';
import { DELIVERIES_CHANNEL, recordAttempts, releaseDeliveries } from './deliveries.ts';
import { attemptDelivery, deliveryContext, type AttemptOutcome, type DeliveryDeps } from './deliver.ts';
import { disableWebhookTarget } from './webhook-targets.ts';
import { coalesce } from './coalesce.ts';

// Per target and process: a slow receiver holds at most this many deliveries, never everyone's.
export const DELIVERIES_PER_TARGET = 2;
// Per target and process: claimed ahead, waiting for one of its slots. Deep enough that a fast
// target's slots never wait for a claim when the database is slow to answer one (a loaded
// machine: 50-100 ms); a target answering slowly gets fewer, so that what waits is sent within
// about SEND_WITHIN_MS of its claim (its target's settings as claimed are that fresh).
const PREFETCH_PER_TARGET = 14;
const SEND_WITHIN_MS = 1000;
// A target whose waiting deliveries fall below this (as its POSTs are answered) is topped up; above
// it, an answer claims nothing, so a claim brings a batch rather than the one row just freed.
const REFILL_BELOW = 8;
// Per process: deliveries claimed and not yet answered (sending or waiting), across all targets.
export const MAX_HELD = 128;
// Per process: attempts answered but not yet recorded (their rows stay leased meanwhile).
const MAX_UNRECORDED = 4 * MAX_HELD;
// The fallback when a notification is missed (or comes from no one: a retry falling due).
export const POLL_INTERVAL_MS = 1000;
// A batch whose record failed is handed back, due again after this.
const RELEASE_AFTER_MS = 1000;
// Record transactions at once: one slow (locked) record does not hold every other attempt's.
const RECORD_WRITERS = 3;
// A second (third) writer starts only when this many attempts wait for the busy one: otherwise
// attempts answered together go in one statement rather than one each.
const RECORD_BACKLOG = 32;
// An attempt answered while no writer is busy waits this long for others to share its statement.
const RECORD_GATHER_MS = 10;

export type DeliveryLoop = { wake(): void; stop(): Promise<void> };

/**
 * Claims due deliveries from webhook_deliveries in batches (woken by the relay's NOTIFY, by its
 * own retries falling due, and by a poll), POSTs each under the per-target cap and records the
 * attempts of whatever finished together in one statement. Several processes share the table:
 * each row is held by one claim's lease at a time.
 */
export function startDeliveryLoop(deps: DeliveryDeps, logger: Logger): DeliveryLoop {
  const ctx = deliveryContext(deps);
  const leaseSeconds = Math.ceil(deps.timeoutMs / 1000) + 60;
  // Per target: claimed and not yet answered (sending or waiting), sending, and waiting in order.
  const held = new Map<string, number>();
  const sending = new Map<string, number>();
  const waiting = new Map<string, ClaimedDelivery[]>();
  // Per target: how long its POSTs take (moving average), setting how many are claimed ahead.
  const answerMs = new Map<string, number>();
  const aheadOf = (targetId: string) => {
    const ms = answerMs.get(targetId);
    return ms === undefined ? PREFETCH_PER_TARGET : Math.max(1, Math.min(PREFETCH_PER_TARGET, Math.floor((SEND_WITHIN_MS / Math.max(1, ms)) * DELIVERIES_PER_TARGET)));
  };
  // A claimed delivery not sent by then is handed back rather than sent: its POST could outlast
  // the lease, and another worker could claim and send it meanwhile.
  const sendBy = (d: ClaimedDelivery) => d.claimedAt + leaseSeconds * 1000 - deps.timeoutMs - 5000;
  const tasks = new Set<Promise<void>>();
  let heldTotal = 0;
  let unrecorded = 0;
  let stopping = false;
  const add = (m: Map<string, number>, k: string, n: number) => {
    const v = (m.get(k) ?? 0) + n;
    if (v > 0) m.set(k, v);
    else m.delete(k);
  };

  const send = (d: ClaimedDelivery) => {
    add(sending, d.target.id, 1);
    let answered = false;
    // The target's slot is free once its POST is answered; the row stays claimed (leased) until
    // its attempt is recorded, so no one sends it again meanwhile.
    const answer = () => {
      if (answered) return;
      answered = true;
      add(sending, d.target.id, -1);
      add(held, d.target.id, -1);
      heldTotal--;
      const queue = waiting.get(d.target.id);
      if (stopping) return;
      let next = queue?.shift();
      const stale: ClaimedDelivery[] = [];
      for (const now = Date.now(); next && now > sendBy(next); next = queue!.shift()) stale.push(next);
      if (next) send(next);
      if (stale.length) handBack(stale);
      if (!queue || queue.length < REFILL_BELOW) wake();
    };
    const task = attemptDelivery(deps, ctx, d)
      .then((outcome) => {
        const ms = answerMs.get(d.target.id);
        if (ms === undefined && answerMs.size >= 10_000) answerMs.clear();
        answerMs.set(d.target.id, ms === undefined ? outcome.durationMs : 0.8 * ms + 0.2 * outcome.durationMs);
        answer();
        return record(outcome);
      })
      .catch((err) => logger.error({ err, deliveryId: d.id }, 'webhook delivery attempt crashed'))
      .finally(() => {
        answer();
        tasks.delete(task);
        // Claiming stopped at the cap of unrecorded attempts resumes once one is recorded.
        if (unrecorded-- === MAX_UNRECORDED) wake();
      });
    tasks.add(task);
  };

  // Claimed, never sent: released at once (due again for whoever claims first).
  const handBack = (ds: ClaimedDelivery[]) => {
    for (const d of ds) add(held, d.target.id, -1);
    heldTotal -= ds.length;
    unrecorded -= ds.length;
    releaseDeliveries(deps.pool, ds.map((d) => d.id), 0)
      .catch((err) => logger.warn({ err }, 'handing back claimed webhook deliveries failed; their leases will expire'))
      .finally(wake);
  };

  // Claims until every target has its fill (or the process its cap); a wake-up during a claim
  // makes one more pass after it.
  const claims = coalesce(async () => {
    while (!stopping && heldTotal < MAX_HELD && unrecorded < MAX_UNRECORDED) {
      // Each target's next ones are claimed while its current ones are being sent, so a
      // slot never waits for a claim; they are sent DELIVERIES_PER_TARGET at a time.
      const limit = MAX_HELD - heldTotal;
      // A slow target counts as holding the ahead-claims it is not given.
      const inFlight = new Map(held);
      for (const id of answerMs.keys()) inFlight.set(id, (held.get(id) ?? 0) + PREFETCH_PER_TARGET - aheadOf(id));
      const claimed = await claimDueDeliveries(deps.pool, { limit, perTarget: DELIVERIES_PER_TARGET + PREFETCH_PER_TARGET, leaseSeconds, inFlight });
      for (const d of claimed) {
        // Its payload is read now, while it waits for a slot, not in the slot.
        void ctx.payload(d).catch(() => {});
        add(held, d.target.id, 1);
        heldTotal++;
        unrecorded++;
        if ((sending.get(d.target.id) ?? 0) < DELIVERIES_PER_TARGET) send(d);
        else {
          const queue = waiting.get(d.target.id) ?? [];
          queue.push(d);
          waiting.set(d.target.id, queue);
        }
      }
      // Fewer than the limit: every target got all it had room for in this one statement.
      if (claimed.length < limit) break;
    }
  }, (err) => logger.error({ err }, 'claiming webhook deliveries failed'));
  const wake = () => {
    if (!stopping) claims.run();
  };

  // Attempts that finish while a writer is busy wait and go together in its next record.
  let queue: Array<{ outcome: AttemptOutcome; done: () => void }> = [];
  let writers = 0;
  let gathering: NodeJS.Timeout | null = null;
  const record = (outcome: AttemptOutcome) =>
    new Promise<void>((done) => {
      queue.push({ outcome, done });
      if (writers === 0 && queue.length < RECORD_BACKLOG) gathering ??= setTimeout(() => void flush(), RECORD_GATHER_MS);
      else void flush();
    });
  const flush = async () => {
    if (writers >= RECORD_WRITERS || (writers > 0 && queue.length < RECORD_BACKLOG)) return;
    if (gathering) clearTimeout(gathering);
    gathering = null;
    writers++;
    try {
      while (queue.length) {
        const batch = queue;
        queue = [];
        const outcomes = batch.map((b) => b.outcome);
        try {
          const gone = [...new Set(outcomes.filter((o) => o.gone).map((o) => o.targetId))];
          if (!gone.length) await recordAttempts(deps.pool, outcomes);
          else
            await withTransaction(deps.pool, async (tx) => {
              await recordAttempts(tx, outcomes);
              for (const targetId of gone) await disableWebhookTarget(tx, targetId, 'the receiver answered 410 Gone');
            });
          for (const o of outcomes) if (o.nextAttemptAt) wakeAt(o.nextAttemptAt.getTime());
        } catch (err) {
          // Sent but not recorded: handed back to be sent again and recorded once (at least once),
          // with every attempt still waiting for a record, as if this worker had died here.
          const waitingToo = queue;
          queue = [];
          batch.push(...waitingToo);
          logger.error({ err, deliveries: batch.length }, 'recording webhook attempts failed; they will be sent again');
          await releaseDeliveries(deps.pool, batch.map((b) => b.outcome.deliveryId), RELEASE_AFTER_MS).catch(() => {});
          wakeAt(Date.now() + RELEASE_AFTER_MS);
        }
        for (const b of batch) b.done();
      }
    } finally {
      writers--;
    }
  };

  // One timer for the earliest retry this process scheduled.
  let timer: NodeJS.Timeout | null = null;
  let timerAt = Infinity;
  const wakeAt = (at: number) => {
    if (stopping || at >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = null;
      timerAt = Infinity;
      wake();
    }, Math.max(0, at - Date.now()));
    timer.unref();
  };

  // NOTIFY from the relay and from resends; the poll below reopens a lost LISTEN connection.
  const channel = channelListener(deps.pool, DELIVERIES_CHANNEL, () => wake(), logger);
  const poll = setInterval(() => {
    channel.ensure();
    wake();
  }, POLL_INTERVAL_MS);
  poll.unref();
  channel.ensure();
  wake();

  return {
    wake,
    stop: async () => {
      stopping = true;
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      await claims.settled();
      // Claimed but never sent: handed back at once.
      const unsent = [...waiting.values()].flat();
      waiting.clear();
      unrecorded -= unsent.length;
      await releaseDeliveries(deps.pool, unsent.map((d) => d.id), 0).catch(() => {});
      await Promise.allSettled([...tasks]);
      await channel.close();
    },
  };
}
