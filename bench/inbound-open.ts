import { AUTH, prepareInboundBench, printTopStatements, resetStatements, startServer, watchUntilReadable } from './inbound.ts';
import { percentile } from './support/bench-database.ts';
import { cpuSplit } from './support/cpu-split.ts';
import { request } from './support/http-request.ts';

/**
 * Open loop: emails offered at a fixed rate on a schedule, each POST sent at its time whether or
 * not the earlier ones were answered (as a mail provider delivers), against a real `intake start`.
 * Accept latency counts from the scheduled time (a late send is the server's delay too). Every
 * FOLLOW_EVERY-th email (at most MAX_FOLLOWING at a time) is followed through the API until its thread is readable.
 */
const FOLLOW_EVERY = 10;
const MAX_FOLLOWING = 2;

export async function benchInboundOpen(rate = Number(process.env.BENCH_INBOUND_RATE ?? 200), seconds = Number(process.env.BENCH_INBOUND_SECONDS ?? 10)): Promise<void> {
  const n = rate * seconds;
  // Baseline as the closed-loop bench's: single-row INSERTs of the raw payloads at concurrency 16.
  const { db, dataDir, workspace, apiKey, bodies, avgKb, baselinePerSec } = await prepareInboundBench(n, 16);

  const server = await startServer(db.url, dataDir);
  const statements = await resetStatements(db.pool);
  const auth = `Basic ${Buffer.from(AUTH).toString('base64')}`;
  try {
    const accept: number[] = [];
    // Each accepted email's scheduled time (ms into the run) and latency, for BENCH_TIMELINE.
    const acceptAt: Array<[number, number]> = [];
    const failures: string[] = [];
    let following = 0;
    const readable: number[] = [];
    const sends: Promise<void>[] = [];
    // BENCH_TIMELINE: the server's event-loop delay each second (prom-client resets its histogram per
    // scrape, so one scrape now leaves start-up out) and the CPU of bench, server and PostgreSQL.
    const loopLag: string[] = [];
    const cpu = cpuSplit(server.pid);
    // The load generator's own HTTP code warmed first: cold, it took a third of a core in the first
    // seconds, from the two the server shares. (GET /healthz: no mail, nothing stored.)
    for (let i = 0; i < 300; i++) await request('GET', `${server.url}/healthz`, {});
    if (process.env.BENCH_TIMELINE) await (await fetch(`${server.url}/metrics`)).text();
    const start = performance.now() + 50;
    const scrape = process.env.BENCH_TIMELINE
      ? setInterval(() => {
          cpu.mark();
          void fetch(`${server.url}/metrics`).then(async (res) => {
            const text = await res.text();
            const read = (name: string) => Math.round(Number(new RegExp(`^intake_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000);
            loopLag.push(`${read('p50')}/${read('p99')}/${read('max')}`);
          });
        }, 1000)
      : undefined;
    for (let i = 0; i < n; i++) {
      const at = start + (i * 1000) / rate;
      const wait = at - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      sends.push(
        (async () => {
          let res: { status: number; body: Buffer };
          try {
            res = await request('POST', `${server.url}/inbound/postmark`, { 'content-type': 'application/json', authorization: auth }, bodies[i]);
          } catch (err) {
            // Not answered (a reset under overload): a provider would retry it; counted, not fatal.
            failures.push(`${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
            return;
          }
          if (res.status !== 200) {
            failures.push(`HTTP ${res.status}`);
            return;
          }
          const { inboundEmailId } = JSON.parse(res.body.toString()) as { inboundEmailId: string };
          const answered = performance.now();
          accept.push(answered - at);
          acceptAt.push([at - start, answered - at]);
          // At most MAX_FOLLOWING at once: pollers piling up behind a backlog would be load of their own.
          if (i % FOLLOW_EVERY === 0 && following < MAX_FOLLOWING) {
            following++;
            try {
              await watchUntilReadable(server.url, apiKey, inboundEmailId, 5);
              readable.push(performance.now() - answered);
            } finally {
              following--;
            }
          }
        })(),
      );
    }
    const offeredSec = (performance.now() - start) / 1000;
    await Promise.all(sends);
    clearInterval(scrape);
    for (;;) {
      const { rows } = await db.pool.query(`SELECT EXISTS (SELECT 1 FROM inbound_emails WHERE status = 'received') AS waiting`);
      if (!rows[0].waiting) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { rows: lag } = await db.pool.query<{ ms: number }>(`SELECT extract(epoch FROM processed_at - received_at) * 1000 AS ms FROM inbound_emails`);
    const dbLag = lag.map((r) => Number(r.ms));
    const { rows: statuses } = await db.pool.query(`SELECT status, count(*)::int AS n FROM inbound_emails GROUP BY status ORDER BY status`);

    const f = (x: number) => x.toFixed(1);
    if (process.env.BENCH_TIMELINE) {
      const perSecond = Array.from({ length: seconds }, (_, s) => acceptAt.filter(([t]) => t >= s * 1000 && t < (s + 1) * 1000).map(([, ms]) => ms));
      console.log(`  accept latency by second of the schedule (p50/max ms): ${perSecond.map((l) => `${Math.round(percentile(l, 50))}/${Math.round(Math.max(...l))}`).join(' ')}`);
      console.log(`  server event-loop delay by second (p50/p99/max ms, 10 ms resolution): ${loopLag.join(' ')}`);
      console.log(`  CPU by second, % of one core (bench/server main+other threads/postgres): ${cpu.rows.join(' ')}`);
    }
    console.log(`inbound open loop (${n} Postmark payloads, avg ${avgKb.toFixed(1)} KB, offered ${rate}/s on a schedule for ${seconds} s, server process on ${db.describe})`);
    console.log(`  baseline single-row INSERT of the raw payloads: ${Math.round(baselinePerSec)}/s  (offered load = ${(rate / baselinePerSec).toFixed(2)}x of baseline)`);
    console.log(`  offered: ${Math.round(n / offeredSec)}/s achieved by the sender; answered 200: ${accept.length}; not answered or not 200: ${failures.length}${failures.length ? ` (${[...new Set(failures)].join(', ')})` : ''}`);
    console.log(`  accept latency from the scheduled time: p50 ${f(percentile(accept, 50))} ms  p99 ${f(percentile(accept, 99))} ms  max ${f(Math.max(...accept))} ms  (target p99 < 50 ms)`);
    console.log(`  200 -> thread readable through the API (${readable.length} followed, 5 ms polling): p50 ${f(percentile(readable, 50))} ms  p99 ${f(percentile(readable, 99))} ms  (target p50 < 250 ms)`);
    console.log(`  receipt -> processed (database clock, all ${lag.length}): p50 ${f(percentile(dbLag, 50))} ms  p99 ${f(percentile(dbLag, 99))} ms`);
    console.log(`  outcomes: ${statuses.map((r) => `${r.status} ${r.n}`).join(', ')}`);
    if (statements) await printTopStatements(db.pool);
  } finally {
    await server.stop();
    await db.close();
  }
}
