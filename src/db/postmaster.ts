import { spawn } from 'node:child_process';

export type PostmasterExit = { code: number | null; signal: NodeJS.Signals | null };

export type Postmaster = {
  pid: number;
  /** Resolves when the server process has exited, for whatever reason. */
  exited: Promise<PostmasterExit>;
  hasExited(): boolean;
  /** Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL; returns at once if it already exited. */
  stop(): Promise<void>;
};

export type PostmasterOptions = {
  /** The `postgres` binary. */
  binary: string;
  clusterDir: string;
  port: number;
  flags: string[];
  /** The unprivileged user to run as when we are root. */
  runAs?: { uid: number; gid: number } | undefined;
  onLog: (line: string) => void;
  readyTimeoutMs?: number;
};

const READY = 'database system is ready to accept connections';
const STOP_GRACE_MS = { fast: 20_000, immediate: 5_000 };

/**
 * Runs one PostgreSQL server process. It gets a process group of its own (`detached`), so the
 * Ctrl-C a terminal sends to intake's group does not reach it: intake stops it last, after its
 * workers have finished or handed back their jobs. We watch the child ourselves, so a server that
 * dies is noticed at once and a stop never waits for an exit that already happened.
 */
export async function startPostmaster(options: PostmasterOptions): Promise<Postmaster> {
  const child = spawn(options.binary, ['-D', options.clusterDir, '-p', String(options.port), ...options.flags], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(options.runAs ?? {}),
    // Server messages in English, so readiness can be read from its log.
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  let exit: PostmasterExit | undefined;
  const exited = new Promise<PostmasterExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));

  let log = '';
  const ready = new Promise<void>((resolve) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) options.onLog(line.trimEnd());
      // A chunk may end mid-message: keep a tail to match across chunks.
      log = (log + chunk).slice(-4096);
      if (log.includes(READY)) resolve();
    });
  });
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  const postmaster: Postmaster = {
    pid: child.pid ?? 0,
    exited,
    hasExited: () => exit !== undefined,
    stop: async () => {
      if (exit) return;
      for (const [signal, graceMs] of [['SIGINT', STOP_GRACE_MS.fast], ['SIGQUIT', STOP_GRACE_MS.immediate], ['SIGKILL', 60_000]] as const) {
        try {
          child.kill(signal);
        } catch {}
        if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
      }
    },
  };
  try {
    await Promise.race([
      ready,
      spawnFailed,
      exited.then((e) => {
        throw new Error(`PostgreSQL exited during start-up (${describeExit(e)}): ${lastLines(log)}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`PostgreSQL was not ready within ${timeoutMs / 1000} s: ${lastLines(log)}`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    await postmaster.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return postmaster;
}

export function describeExit(e: PostmasterExit): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ') || '(no output)';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
