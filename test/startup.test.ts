import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../src/db/embedded-postgres.ts';
import { decryptSecret } from '../src/secret-box.ts';
import { runCli, startIntake } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { makeWorkspace } from './support/workspaces.ts';

let dataDir: string;
let parent: string;

beforeAll(async () => {
  parent = await fs.mkdtemp(path.join(os.tmpdir(), 'intake-start-'));
  await fs.chmod(parent, 0o755);
  dataDir = path.join(parent, 'data');
});
afterAll(async () => {
  await fs.rm(parent, { recursive: true, force: true });
});

async function postmasterPid(): Promise<number> {
  return Number((await fs.readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

async function waitUntil(check: () => boolean, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe('intake start on an empty machine', () => {
  it('starts on embedded PostgreSQL, prints and saves credentials, serves a CLI alongside, and stops cleanly on SIGTERM', async () => {
    const intake = await startIntake({ DATA_DIR: dataDir });
    const health = await fetch(`${intake.url}/healthz`);
    expect(health.status).toBe(200);

    const credentialsFile = path.join(dataDir, 'credentials.json');
    const credentials = JSON.parse(await fs.readFile(credentialsFile, 'utf8'));
    expect(Object.keys(credentials).sort()).toEqual(['apiKey', 'inboundAddress', 'inboundBasicAuth', 'url', 'webhookSecret', 'workspaceId']);
    expect((await fs.stat(credentialsFile)).mode & 0o777).toBe(0o600);
    expect(credentials.url).toBe(intake.url);
    // stdout is the JSON log stream and stderr is no terminal here: both name the file, neither holds a secret.
    expect(intake.output()).toContain('first start: created the workspace');
    expect(intake.output()).toContain(credentialsFile);
    for (const secret of [credentials.apiKey, credentials.webhookSecret, credentials.inboundBasicAuth, credentials.inboundBasicAuth.split(':')[1]]) {
      expect(intake.stdout()).not.toContain(secret);
      expect(intake.stderr()).not.toContain(secret);
    }
    for (const line of intake.stdout().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();

    const me = await fetch(`${intake.url}/v1/workspace`, { headers: { authorization: `Bearer ${credentials.apiKey}` } });
    expect(await me.json()).toMatchObject({ workspace: { id: credentials.workspaceId, name: 'Default', inboundAddress: credentials.inboundAddress } });

    // A CLI command on the same DATA_DIR joins the running embedded server instead of failing on its lock.
    const created = await runCli(['workspace', 'create', '--name', 'Globex', '--support-address', 'help@globex.com', '--json'], { DATA_DIR: dataDir });
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const lines = created.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const globex = JSON.parse(lines[0]!);
    expect(Object.keys(globex).sort()).toEqual(['apiKey', 'inboundAddress', 'webhookSecret', 'workspaceId']);
    const globexMe = await fetch(`${intake.url}/v1/workspace`, { headers: { authorization: `Bearer ${globex.apiKey}` } });
    expect(await globexMe.json()).toMatchObject({ workspace: { id: globex.workspaceId, supportAddress: 'help@globex.com' } });

    const pgPid = await postmasterPid();
    expect(isAlive(pgPid)).toBe(true);
    intake.child.kill('SIGTERM');
    expect(await intake.exited).toBe(0);
    expect(await waitUntil(() => !isAlive(pgPid))).toBe(true);
    await expect(fs.access(path.join(dataDir, 'pg', 'postmaster.pid'))).rejects.toThrow();
  });

  it('keeps the data on a second start of the same DATA_DIR, and prints no new credentials', async () => {
    const credentials = JSON.parse(await fs.readFile(path.join(dataDir, 'credentials.json'), 'utf8'));
    const intake = await startIntake({ DATA_DIR: dataDir });
    try {
      expect(intake.output()).not.toContain('created the workspace');
      const me = await fetch(`${intake.url}/v1/workspace`, { headers: { authorization: `Bearer ${credentials.apiKey}` } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { workspace: { id: string } }).workspace.id).toBe(credentials.workspaceId);
    } finally {
      intake.child.kill('SIGINT');
      expect(await intake.exited).toBe(0);
    }
  });

  it('recovers after being killed with SIGKILL: the orphaned PostgreSQL is stopped and started afresh', async () => {
    const first = await startIntake({ DATA_DIR: dataDir });
    const orphan = await postmasterPid();
    first.child.kill('SIGKILL');
    await first.exited;
    expect(isAlive(orphan)).toBe(true);

    const second = await startIntake({ DATA_DIR: dataDir });
    try {
      expect(await waitUntil(() => !isAlive(orphan))).toBe(true);
      expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    } finally {
      const pgPid = await postmasterPid();
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(await waitUntil(() => !isAlive(pgPid))).toBe(true);
    }
  });

  it('on an existing DATABASE_URL with a new DATA_DIR, logs where the generated INBOUND_BASIC_AUTH is, never the secret', async () => {
    const db = await createTestDatabase();
    const freshDir = path.join(parent, 'fresh');
    try {
      const { workspace } = await makeWorkspace(db.pool, 'Existing', 'help@existing.com');
      // A webhook target stored before URL passwords were sealed: the start seals it.
      await db.pool.query(
        `INSERT INTO webhook_targets (id, workspace_id, url, event_types, signing_secret_encrypted) VALUES ('wht_legacy', $1, 'https://hooks:l3gacy@hooks.example.com/in', '{thread.thread_created}', 'v1.x.y.z')`,
        [workspace.id],
      );
      const intake = await startIntake({ DATABASE_URL: db.url, DATA_DIR: freshDir });
      intake.child.kill('SIGINT');
      expect(await intake.exited).toBe(0);
      const secrets = JSON.parse(await fs.readFile(path.join(freshDir, 'secrets.json'), 'utf8'));
      const { rows } = await db.pool.query(`SELECT url, url_password_encrypted FROM webhook_targets WHERE id = 'wht_legacy'`);
      expect(rows[0].url).toBe('https://hooks@hooks.example.com/in');
      expect(decryptSecret(Buffer.from(secrets.secretsKey, 'base64'), rows[0].url_password_encrypted, 'wht_legacy')).toBe('l3gacy');
      expect(intake.stdout()).toContain(path.join(freshDir, 'secrets.json'));
      expect(intake.output()).not.toContain('created the workspace');
      for (const secret of [secrets.inboundBasicAuth, secrets.inboundBasicAuth.split(':')[1], secrets.secretsKey]) {
        expect(intake.stdout()).not.toContain(secret);
        expect(intake.stderr()).not.toContain(secret);
      }
    } finally {
      await db.close();
    }
  });

  it('refuses a bad setting at start-up, naming the variable', async () => {
    const result = await runCli(['start'], { DATA_DIR: dataDir, PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('PORT: ');
    expect(result.stderr).toContain('LOG_LEVEL: ');
  });
});
