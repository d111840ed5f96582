#!/usr/bin/env node
// Plain JavaScript that any Node can read, so an old one is told what to install instead of
// "bad option: --experimental-strip-types". intake itself runs its TypeScript on Node's type
// stripping: no build step, no loader.
import { spawn } from 'node:child_process';
import { nodeProblem } from './check-node.js';

const problem = nodeProblem();
if (problem) {
  console.error(problem);
  process.exit(1);
}

if (process.features.typescript) {
  await import('../src/cli/main.ts');
} else {
  // Node 22.12-22.17 strips types only when asked: run again with the flags, as the same process
  // where Node can (execve keeps the pid, so signals reach intake itself), else as a child.
  const args = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', ...process.execArgv, ...process.argv.slice(1)];
  if (typeof process.execve === 'function') process.execve(process.execPath, [process.execPath, ...args], process.env);
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  // A terminal's Ctrl-C reaches the child through the process group; other signals are passed on.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
