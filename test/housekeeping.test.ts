import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleTestServerDirs, TEST_PG_PREFIX } from './support/temp-cleanup.ts';

// Issue 15, item 6: temp folders do not pile up.

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-housekeeping-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

function serverDir(name: string, owner: number | null, ageMs = 0): string {
  const dir = path.join(root, `${TEST_PG_PREFIX}${name}`);
  fs.mkdirSync(path.join(dir, 'pg'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'pg', 'PG_VERSION'), '18\n');
  if (owner !== null) fs.writeFileSync(path.join(dir, 'pg-owner.json'), JSON.stringify({ pid: owner }));
  const when = new Date(Date.now() - ageMs);
  fs.utimesSync(dir, when, when);
  return dir;
}

describe('test servers left behind', () => {
  it("removes folders whose run is gone and keeps a live run's and a run starting now", () => {
    const stale = serverDir('stale', deadPid());
    const oldUnowned = serverDir('old', null, 60 * 60_000);
    const live = serverDir('live', process.pid);
    const starting = serverDir('starting', null);
    const unrelated = path.join(root, 'something-else');
    fs.mkdirSync(unrelated);
    expect(removeStaleTestServerDirs(root).sort()).toEqual([oldUnowned, stale].sort());
    for (const dir of [stale, oldUnowned]) expect(fs.existsSync(dir)).toBe(false);
    for (const dir of [live, starting, unrelated]) expect(fs.existsSync(dir)).toBe(true);
  });

  it('removes the folder of a process interrupted with Ctrl-C (SIGINT), which still ends by that signal', async () => {
    const dir = serverDir('interrupted', null);
    const script = `
      import { onAnyExit, removeTestServerDir } from ${JSON.stringify(new URL('./support/temp-cleanup.ts', import.meta.url).href)};
      onAnyExit(() => removeTestServerDir(${JSON.stringify(dir)}));
      console.log('ready');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(fs.existsSync(dir)).toBe(true);
    child.kill('SIGINT');
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' });
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('.ci/run', () => {
  it('removes its temp folder however it ends', () => {
    const text = fs.readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
    const made = /^(\w+)="\$\(mktemp -d\)"$/m.exec(text);
    expect(made).not.toBeNull();
    expect(text).toContain(`trap 'rm -rf "$${made![1]}"' EXIT`);
  });
});
