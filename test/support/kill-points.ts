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
