import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, startIntake, type RunningIntake } from './support/cli.ts';

/**
 * Issue 15's "done when": the newcomer path as a user walks it, with real processes and a fresh
 * DATA_DIR (the embedded PostgreSQL, no DATABASE_URL): `intake start`, `intake demo`, the
 * `intake import connect ... --once` line the demo printed, the threads through the API, then
 * Ctrl-C with zero error lines and no process left behind.
 */

const NODE_FLAGS = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning'];
let dataDir: string;

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Processes whose command line names the data folder (the embedded PostgreSQL and its children). */
async function processesUsing(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ')}`);
  }
  return found;
}

const errorLines = (text: string) => text.split('\n').filter((l) => /"level":(50|60)/.test(l) || /\berror\b/i.test(l) && !l.startsWith('{'));

it('clone to imported demo account: start, demo, connect --once, threads in the API, Ctrl-C leaves nothing', async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'intake-first-hour-'));
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  // First terminal: `npx intake start`, as the README says; second terminal: `npx intake demo`.
  let apiKey = '';
  const intake: RunningIntake = await startIntake(env, 120_000, { processGroup: true });
  const demo = spawn(process.execPath, [...NODE_FLAGS, BIN, 'demo', '--size', '30'], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  try {
    const credentials = JSON.parse(await readFile(path.join(dataDir, 'credentials.json'), 'utf8')) as { url: string; apiKey: string; workspaceId: string };
    apiKey = credentials.apiKey;
    expect(credentials.url).toBe(intake.url);

    // The demo printed the exact line to run; it names the workspace from credentials.json.
    let demoOut = '';
    demo.stdout.on('data', (d) => (demoOut += d));
    for (let i = 0; i < 600 && !/--once\n/.test(demoOut); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const line = /^\s+(\w+)=(\S+) npx intake (import connect .+ --once)$/m.exec(demoOut);
    expect(line, demoOut).not.toBeNull();
    expect(line![3]).toContain(`--workspace ${credentials.workspaceId}`);
    const imported = await runCli(line![3]!.split(' '), { ...env, [line![1]!]: line![2]! }, 120_000);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^Run ir_\w+: succeeded$/m);
    expect(imported.stdout).toMatch(/tickets\s+30 created/);

    const res = await fetch(`${credentials.url}/v1/threads?first=100`, { headers: { authorization: `Bearer ${credentials.apiKey}` } });
    expect(res.status).toBe(200);
    const { threads } = (await res.json()) as { threads: Array<{ title: string }> };
    expect(threads).toHaveLength(30);
  } finally {
    // Ctrl-C in each terminal: SIGINT to the whole foreground process group.
    process.kill(-intake.child.pid!, 'SIGINT');
    process.kill(-demo.pid!, 'SIGINT');
  }
  const demoExit = await new Promise<number | null>((resolve) => (demo.exitCode !== null ? resolve(demo.exitCode) : demo.once('exit', (c) => resolve(c))));
  expect(demoExit).toBe(0);
  expect(await intake.exited).toBe(0);
  expect(errorLines(intake.output())).toEqual([]);
  expect(intake.stderr()).toBe('');
  // No client object, cancel key, database password or API key in the log of the whole cycle.
  const { password } = JSON.parse(await readFile(path.join(dataDir, 'pg-auth.json'), 'utf8')) as { password: string };
  for (const needle of ['secretKey', 'processID', '"client":', password, apiKey]) expect(intake.output()).not.toContain(needle);
  expect(await processesUsing(dataDir)).toEqual([]);
}, 300_000);
