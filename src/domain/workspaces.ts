import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Queryable } from '../db/pool.ts';
import { encryptSecret } from '../secret-box.ts';
import { inferCompany } from './company-inference.ts';
import { newId } from './ids.ts';
import { InputError, type FieldError } from './input-error.ts';
import { prepared } from '../db/prepared.ts';

export const MAX_ALTERNATE_ADDRESSES = 10;

export type Workspace = {
  id: string;
  name: string;
  supportAddress: string | null;
  alternateAddresses: string[];
  inboundToken: string;
  /** Addresses outside the support domain whose forwards count as agent forwards. */
  forwarderAddresses: string[];
  createdAt: Date;
};

export type WorkspaceCredentials = {
  workspace: Workspace;
  /** Shown once: only its hash is stored. */
  apiKey: string;
  /** Shown once here; stored encrypted with SECRETS_KEY. */
  webhookSecret: string;
};

type WorkspaceRow = {
  id: string;
  name: string;
  support_address: string | null;
  alternate_addresses: string[];
  inbound_token: string;
  forwarder_addresses: string[];
  created_at: Date;
};

const COLUMNS = 'id, name, support_address, alternate_addresses, inbound_token, forwarder_addresses, created_at';

function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    id: row.id,
    name: row.name,
    supportAddress: row.support_address,
    alternateAddresses: row.alternate_addresses,
    inboundToken: row.inbound_token,
    forwarderAddresses: row.forwarder_addresses,
    createdAt: row.created_at,
  };
}

export function inboundAddress(workspace: Pick<Workspace, 'inboundToken'>, inboundDomain: string): string {
  return `${workspace.inboundToken}@${inboundDomain}`;
}

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

const email = z.email().max(320);

export type AddressInput = { supportAddress?: string | null | undefined; alternateAddresses?: string[] | undefined };

/** Support address and up to 10 distinct alternates on its domain, lower-cased. */
export function validateAddresses(input: { supportAddress: string | null; alternateAddresses: string[] }): {
  supportAddress: string | null;
  alternateAddresses: string[];
} {
  const fields: FieldError[] = [];
  const support = input.supportAddress?.trim().toLowerCase() ?? null;
  if (support !== null && !email.safeParse(support).success) {
    fields.push({ field: 'supportAddress', message: 'must be an email address', type: 'VALIDATION' });
  }
  const alternates = input.alternateAddresses.map((a) => a.trim().toLowerCase());
  if (alternates.length > MAX_ALTERNATE_ADDRESSES) {
    fields.push({ field: 'alternateAddresses', message: `at most ${MAX_ALTERNATE_ADDRESSES} alternate addresses`, type: 'VALIDATION' });
  }
  if (alternates.length > 0 && support === null) {
    fields.push({ field: 'alternateAddresses', message: 'alternate addresses need a support address', type: 'VALIDATION' });
  }
  const domain = support?.split('@')[1];
  const seen = new Set<string>(support ? [support] : []);
  alternates.forEach((alt, i) => {
    const field = `alternateAddresses[${i}]`;
    if (!email.safeParse(alt).success) fields.push({ field, message: 'must be an email address', type: 'VALIDATION' });
    else if (domain !== undefined && alt.split('@')[1] !== domain) fields.push({ field, message: `must be on the support address's domain ${domain}`, type: 'VALIDATION' });
    else if (seen.has(alt)) fields.push({ field, message: 'is listed twice', type: 'VALIDATION' });
    seen.add(alt);
  });
  if (fields.length > 0) throw new InputError('Invalid workspace addresses', fields);
  return { supportAddress: support, alternateAddresses: alternates };
}

export async function createWorkspace(
  db: Queryable,
  secretsKey: Buffer,
  input: { name: string; supportAddress?: string | null; alternateAddresses?: string[] },
): Promise<WorkspaceCredentials> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) {
    throw new InputError('Invalid workspace', [{ field: 'name', message: 'must be 1 to 200 characters', type: 'VALIDATION' }]);
  }
  const addresses = validateAddresses({ supportAddress: input.supportAddress ?? null, alternateAddresses: input.alternateAddresses ?? [] });
  const id = newId('workspace');
  // Lower-case hex: safe in an address's local part, and free of '+', which thread tokens use.
  const inboundToken = randomBytes(10).toString('hex');
  const webhookSecret = randomBytes(32).toString('hex');
  const apiKey = `intake_${randomBytes(32).toString('base64url')}`;
  const { rows } = await db.query<WorkspaceRow>(
    `INSERT INTO workspaces (id, name, support_address, alternate_addresses, inbound_token, webhook_secret_encrypted)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [id, name, addresses.supportAddress, addresses.alternateAddresses, inboundToken, encryptSecret(secretsKey, webhookSecret, id)],
  );
  await db.query('INSERT INTO api_keys (id, workspace_id, key_sha256) VALUES ($1, $2, $3)', [newId('apiKey'), id, hashApiKey(apiKey)]);
  return { workspace: toWorkspace(rows[0]!), apiKey, webhookSecret };
}

// Every API request's first statement.
const BY_API_KEY = prepared(
  'workspaces.by-api-key',
  `SELECT ${COLUMNS.split(', ').map((c) => `w.${c}`).join(', ')}
     FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
    WHERE k.key_sha256 = $1`,
);

export async function findWorkspaceByApiKey(db: Queryable, apiKey: string): Promise<Workspace | null> {
  const { rows } = await db.query<WorkspaceRow>(BY_API_KEY, [hashApiKey(apiKey)]);
  return rows[0] ? toWorkspace(rows[0]) : null;
}

export async function getWorkspace(db: Queryable, workspaceId: string): Promise<Workspace | null> {
  const { rows } = await db.query<WorkspaceRow>(`SELECT ${COLUMNS} FROM workspaces WHERE id = $1`, [workspaceId]);
  return rows[0] ? toWorkspace(rows[0]) : null;
}

export async function updateWorkspace(
  db: Queryable,
  workspaceId: string,
  patch: { name?: string | undefined; forwarderAddresses?: string[] | undefined } & AddressInput,
): Promise<Workspace> {
  const current = await getWorkspace(db, workspaceId);
  if (!current) throw new Error(`workspace ${workspaceId} does not exist`);
  const name = patch.name === undefined ? current.name : patch.name.trim();
  if (name.length < 1 || name.length > 200) {
    throw new InputError('Invalid workspace', [{ field: 'name', message: 'must be 1 to 200 characters', type: 'VALIDATION' }]);
  }
  const addresses = validateAddresses({
    supportAddress: patch.supportAddress === undefined ? current.supportAddress : patch.supportAddress,
    alternateAddresses: patch.alternateAddresses ?? current.alternateAddresses,
  });
  const forwarders = patch.forwarderAddresses?.map((a) => a.trim().toLowerCase()) ?? current.forwarderAddresses;
  const badForwarders = forwarders.flatMap((a, i) => (email.safeParse(a).success ? [] : [{ field: `forwarderAddresses[${i}]`, message: 'must be an email address', type: 'VALIDATION' as const }]));
  if (badForwarders.length > 0) throw new InputError('Invalid forwarder addresses', badForwarders);
  const { rows } = await db.query<WorkspaceRow>(
    `UPDATE workspaces SET name = $2, support_address = $3, alternate_addresses = $4, forwarder_addresses = $5, updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [workspaceId, name, addresses.supportAddress, addresses.alternateAddresses, [...new Set(forwarders)]],
  );
  return toWorkspace(rows[0]!);
}

// Serialises first-start checks across processes sharing one database.
const DEFAULT_WORKSPACE_LOCK = 7_402_133_002;

/** On an empty database, creates the "Default" workspace; returns its credentials only when it did. */
export async function createDefaultWorkspaceIfNone(tx: Queryable, secretsKey: Buffer): Promise<WorkspaceCredentials | null> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [DEFAULT_WORKSPACE_LOCK]);
  const { rowCount } = await tx.query('SELECT 1 FROM workspaces LIMIT 1');
  if (rowCount) return null;
  return createWorkspace(tx, secretsKey, { name: 'Default' });
}

const BY_INBOUND_TOKEN = prepared('workspaces.by-inbound-token', `SELECT ${COLUMNS} FROM workspaces WHERE inbound_token = $1`);

export async function findWorkspaceByInboundToken(db: Queryable, token: string): Promise<Workspace | null> {
  const { rows } = await db.query<WorkspaceRow>(BY_INBOUND_TOKEN, [token.toLowerCase()]);
  return rows[0] ? toWorkspace(rows[0]) : null;
}

/** Workspaces whose support address or an alternate is among these (lower-cased) addresses. */
export async function findWorkspacesBySupportAddress(db: Queryable, addresses: string[]): Promise<Workspace[]> {
  if (addresses.length === 0) return [];
  const { rows } = await db.query<WorkspaceRow>(
    `SELECT ${COLUMNS} FROM workspaces WHERE support_address = ANY($1) OR alternate_addresses && $1 ORDER BY id`,
    [addresses],
  );
  return rows.map(toWorkspace);
}

/** Workspaces whose support address is on one of these domains. */
export async function findWorkspacesBySupportDomain(db: Queryable, domains: string[]): Promise<Workspace[]> {
  if (domains.length === 0) return [];
  const { rows } = await db.query<WorkspaceRow>(`SELECT ${COLUMNS} FROM workspaces WHERE split_part(support_address, '@', 2) = ANY($1) ORDER BY id`, [domains]);
  return rows.map(toWorkspace);
}

/**
 * One of the workspace's own people: an address on its support domain (unless that domain is a
 * public mail provider, where it would make every gmail.com sender one of us) or a configured
 * forwarder. Addresses are compared lower-cased.
 */
export function isWorkspacePerson(workspace: Pick<Workspace, 'supportAddress' | 'forwarderAddresses'>, address: string): boolean {
  const email = address.toLowerCase();
  const support = workspace.supportAddress?.toLowerCase();
  const domainRule = support !== undefined && inferCompany(support) !== null && email.endsWith(`@${support.slice(support.lastIndexOf('@') + 1)}`);
  return domainRule || workspace.forwarderAddresses.some((a) => a.toLowerCase() === email);
}
