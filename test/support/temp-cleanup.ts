import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The prefix of the suite's embedded PostgreSQL folders in the system's temp folder. */
export const TEST_PG_PREFIX = 'intake-test-pg-';
/** A folder without an owner yet may be a run that is starting this minute: left alone until then. */
const UNOWNED_GRACE_MS = 10 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pidIn(file: string): number | null {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const pid = file.endsWith('.json') ? (JSON.parse(text) as { pid?: unknown }).pid : Number(text.split('\n')[0]);
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Stops a folder's PostgreSQL, if one runs there, and removes the folder. Synchronous, so it can
 * run from a signal or exit handler. The server is killed outright: the suite's data is thrown away.
 */
export function removeTestServerDir(dir: string): void {
  const postmaster = pidIn(path.join(dir, 'pg', 'postmaster.pid'));
  if (postmaster !== null && alive(postmaster)) {
    try {
      process.kill(postmaster, 'SIGKILL');
    } catch {}
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Folders that earlier runs left behind (an interrupted `npm test`, a killed CI job): their owner
 * (the vitest process that wrote pg-owner.json) is gone. A live owner's folder belongs to a run
 * in progress, perhaps another checkout's, and is kept. Returns the folders removed.
 */
export function removeStaleTestServerDirs(tmp = os.tmpdir(), now = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(tmp).filter((n) => n.startsWith(TEST_PG_PREFIX));
  } catch {
    return removed;
  }
  for (const name of names) {
    const dir = path.join(tmp, name);
    try {
      const owner = pidIn(path.join(dir, 'pg-owner.json'));
      if (owner !== null ? alive(owner) : now - fs.statSync(dir).mtimeMs < UNOWNED_GRACE_MS) continue;
      removeTestServerDir(dir);
      removed.push(dir);
    } catch {
      // Another user's folder, or one removed meanwhile: not ours to fight over.
    }
  }
  return removed;
}

/**
 * Runs `cleanup` (synchronous) when the process ends in any way Node can see: a normal exit, or
 * Ctrl-C / SIGTERM / SIGHUP, after which the signal is raised again so the exit status still says
 * how the run ended (unless another handler, vitest's own, is there to end it).
 */
export function onAnyExit(cleanup: () => void): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cleanup();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals) => {
    once();
    detach();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const detach = () => {
    process.off('exit', once);
    for (const s of signals) process.off(s, onSignal);
  };
  process.on('exit', once);
  for (const s of signals) process.on(s, onSignal);
  return detach;
}
