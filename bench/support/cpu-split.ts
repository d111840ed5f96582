import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_MS = 100 / 1000; // USER_HZ is 100 on Linux

/** A task's name and the CPU ms it has used (user + system), from its /proc stat file; null once it is gone. */
function readStat(path: string): { comm: string; ms: number } | null {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ms: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_MS };
}

/** CPU ms used so far by each group of processes: this one, the given server's, PostgreSQL's, and all else (from /proc). */
function sample(serverPid: number | undefined): Record<string, number> {
  const out: Record<string, number> = { bench: 0, server: 0, postgres: 0, other: 0 };
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const task = readStat(`/proc/${pid}/stat`);
    if (!task) continue;
    const group = Number(pid) === process.pid ? 'bench' : Number(pid) === serverPid ? 'server' : task.comm === 'postgres' ? 'postgres' : 'other';
    out[group]! += task.ms;
  }
  // The server's main thread (its task id is its pid) apart from its other threads.
  out.serverMain = readStat(`/proc/${serverPid}/task/${serverPid}/stat`)?.ms ?? 0;
  return out;
}

/** Per-interval CPU of bench, server and PostgreSQL, as "bench/server main thread+other threads/postgres" percent of one core (BENCH_TIMELINE). */
export function cpuSplit(serverPid: number | undefined) {
  let last = sample(serverPid);
  let at = performance.now();
  const rows: string[] = [];
  const used: Array<Record<string, number>> = [];
  return {
    mark() {
      const now = sample(serverPid);
      const t = performance.now();
      const pct = (k: string) => Math.round(((now[k]! - last[k]!) / (t - at)) * 100);
      rows.push(`${pct('bench')}/${pct('serverMain')}+${pct('server') - pct('serverMain')}/${pct('postgres')}`);
      used.push(Object.fromEntries(Object.keys(now).map((k) => [k, now[k]! - last[k]!])));
      last = now;
      at = t;
    },
    rows,
    /** CPU ms of interval i divided by `count` (per email, say): "total (bench/server main+other threads/postgres)"; less noisy than a rate on a busy machine. */
    per(i: number, count: number): string {
      const u = used[i]!;
      const f = (ms: number) => (ms / count).toFixed(2);
      return `${f(u.bench! + u.server! + u.postgres!)} ms (${f(u.bench!)}/${f(u.serverMain!)}+${f(u.server! - u.serverMain!)}/${f(u.postgres!)})`;
    },
  };
}
