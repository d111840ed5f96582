import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/intake.js', import.meta.url));
const NODE_FLAGS = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning'];

/** The environment a spawned intake sees: the caller's settings only, nothing inherited by accident. */
export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _db, DATA_DIR: _dir, PORT: _port, INBOUND_BASIC_AUTH: _auth, SECRETS_KEY: _key, ...rest } = process.env;
  return { ...rest, LOG_LEVEL: 'info', ...env };
}

/** Runs the real `intake` command to completion. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`intake ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export type RunningIntake = {
  child: ChildProcess;
  url: string;
  /** stdout and stderr as they arrived, interleaved. */
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
};

/**
 * Spawns `intake start` and waits for its "ready" log line, which names the URL it listens on.
 * `processGroup`: in a process group of its own, as a shell runs a foreground command, so that
 * `interruptGroup` can send what Ctrl-C in a terminal sends.
 */
export async function startIntake(env: Record<string, string>, timeoutMs = 90_000, options: { processGroup?: boolean } = {}): Promise<RunningIntake> {
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'start'], { env: cliEnv({ PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'], detached: options.processGroup ?? false });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`intake start was not ready in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = /"msg":"intake is ready at (http:\/\/[^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`intake start exited with ${code} before it was ready:\n${output}`));
    });
  });
  return { child, url, output: () => output, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Ctrl-C in a terminal: SIGINT to every process of the foreground group, not only to intake. */
export function interruptGroup(intake: RunningIntake): void {
  process.kill(-intake.child.pid!, 'SIGINT');
}
