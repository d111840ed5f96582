import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { BIN, cliEnv } from './cli.ts';

const NODE_FLAGS = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning'];

export type MeasuredRun = { code: number | null; stdout: string; stderr: string; peakRssBytes: number; seconds: number };

/** The kernel's high-water mark of the process's resident set (VmHWM), or null once it is gone. */
async function highWaterMark(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    return kb ? Number(kb[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Runs the real `intake` command to completion and reports its peak resident set size. VmHWM is
 * the kernel's own peak, so sampling it every 25 ms misses nothing but the last few milliseconds.
 */
export function runCliMeasured(args: string[], env: Record<string, string>, timeoutMs = 300_000): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const sampler = setInterval(() => {
      void highWaterMark(child.pid!).then((hwm) => (peak = Math.max(peak, hwm ?? 0)));
    }, 25);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`intake ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', () => clearInterval(sampler));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, peakRssBytes: peak, seconds: (performance.now() - started) / 1000 });
    });
  });
}
