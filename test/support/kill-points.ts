import { spawn } from 'node:child_process';
import { BIN, cliEnv } from './cli.ts';

/**
 * Killing the real `intake` command at seeded points: the kill follows the import's progress
 * (polled every 15 ms), not the machine's speed, and the seed is printed so a failure replays.
 */

/** mulberry32: a small seeded generator. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts `intake <args>` and SIGKILLs it once `killWhen` says so; answers whether it was killed. */
export function runAndKill(args: string[], env: Record<string, string>, killWhen: () => Promise<boolean>): Promise<{ killed: boolean; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    let closed = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    void (async () => {
      while (!closed && !killed) {
        if (await killWhen().catch(() => false)) {
          killed = child.exitCode === null;
          child.kill('SIGKILL');
          return;
        }
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    child.on('close', (code) => {
      closed = true;
      resolve({ killed, code, stdout, stderr });
    });
  });
}

type Queryable = { query(text: string, values?: unknown[]): Promise<{ rows: any[] }> };

/** Pages committed so far by every run of the workspace's connections, and whether `lastStream` (the import's last) is done. */
export async function committedPages(db: Queryable, workspaceId: string, lastStream: string): Promise<{ pages: number; done: boolean }> {
  const { rows } = await db.query(`SELECT r.progress FROM import_runs r JOIN import_connections c ON c.id = r.connection_id WHERE c.workspace_id = $1`, [workspaceId]);
  const progress = rows.map((r) => r.progress as Record<string, { pages: number; done: boolean }>);
  return {
    pages: progress.reduce((n, p) => n + Object.values(p).reduce((m, s) => m + s.pages, 0), 0),
    done: progress.some((p) => p[lastStream]?.done === true),
  };
}

/**
 * One import run to its end through SIGKILLs at seeded points: when `early`, the first attempt
 * dies at a random moment before any page (start-up, the first request); the next three after up
 * to a third of the import's pages each, so each attempt moves on; the fifth runs to the end.
 * Answers the finishing attempt's output and how many kills landed between committed pages.
 */
export async function killUntilDone(options: {
  db: Queryable;
  workspaceId: string;
  lastStream: string;
  referencePages: number;
  random: () => number;
  early: boolean;
  run: (killWhen: () => Promise<boolean>) => Promise<{ killed: boolean; code: number | null; stdout: string; stderr?: string }>;
}): Promise<{ code: number | null; stdout: string; stderr: string; interruptedMidway: number }> {
  const { db, workspaceId, lastStream, random } = options;
  let interruptedMidway = 0;
  for (let attempt = 0; ; attempt++) {
    const before = (await committedPages(db, workspaceId, lastStream)).pages;
    const started = Date.now();
    const early = options.early && attempt === 0 ? 100 + Math.floor(random() * 400) : null;
    const target = attempt >= 4 ? Number.POSITIVE_INFINITY : before + 1 + Math.floor(random() * (options.referencePages / 3));
    const r = await options.run(async () => (early !== null ? Date.now() - started >= early : (await committedPages(db, workspaceId, lastStream)).pages >= target));
    if (!r.killed) return { code: r.code, stdout: r.stdout, stderr: r.stderr ?? '', interruptedMidway };
    const now = await committedPages(db, workspaceId, lastStream);
    if (now.pages > 0 && !now.done) interruptedMidway += 1;
  }
}

/**
 * The SIGKILL property every importer's process test checks: `trials` imports, each killed at
 * seeded points until it finishes, each ending equal to an uninterrupted run's dump with every run
 * succeeded, and at least one kill landing between committed pages. The seed is printed; set
 * KILL_SEED to replay a failure.
 */
export async function expectKillsToEndEqual(options: {
  db: Queryable;
  trials: number;
  lastStream: string;
  referencePages: number;
  reference: unknown;
  workspace: (trial: number) => Promise<string>;
  run: (workspaceId: string, killWhen: () => Promise<boolean>) => Promise<{ killed: boolean; code: number | null; stdout: string; stderr?: string }>;
  dump: (workspaceId: string) => Promise<unknown>;
}): Promise<void> {
  const { expect } = await import('vitest');
  const seed = Number(process.env.KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`kill points seeded with KILL_SEED=${seed}`);
  const random = seeded(seed);
  let interruptedMidway = 0;
  for (let trial = 0; trial < options.trials; trial++) {
    const workspaceId = await options.workspace(trial);
    const final = await killUntilDone({
      db: options.db,
      workspaceId,
      lastStream: options.lastStream,
      referencePages: options.referencePages,
      random,
      early: trial === 0,
      run: (killWhen) => options.run(workspaceId, killWhen),
    });
    interruptedMidway += final.interruptedMidway;
    expect(final.code, `KILL_SEED=${seed}: ${final.stderr}`).toBe(0);
    expect(JSON.parse(final.stdout).status).toBe('succeeded');
    expect(await options.dump(workspaceId), `trial ${trial} (KILL_SEED=${seed})`).toEqual(options.reference);
    // One run, or more when a kill landed after the run had finished (the next command starts an
    // incremental one, which finds nothing new): never one left behind unfinished.
    const { rows } = await options.db.query(`SELECT r.status FROM import_runs r JOIN import_connections c ON c.id = r.connection_id WHERE c.workspace_id = $1`, [workspaceId]);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.status === 'succeeded'), `KILL_SEED=${seed}`).toBe(true);
  }
  // Kills landed between committed pages (not only before the first or after the last).
  expect(interruptedMidway, `KILL_SEED=${seed}`).toBeGreaterThan(0);
}
