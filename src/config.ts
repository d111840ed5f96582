import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => /^postgres(ql)?:\/\//.test(v) && URL.canParse(v), 'must be a postgres:// or postgresql:// URL');

const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a domain name such as inbound.example.com');

const envSchema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().trim().min(1).default('./.data'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  INBOUND_DOMAIN: domainName.default('inbound.localhost'),
  INBOUND_BASIC_AUTH: z
    .string()
    .regex(/^[^:\s]+:\S{8,}$/, 'must be user:password with a password of at least 8 characters')
    .optional(),
  SECRETS_KEY: z
    .string()
    .trim()
    .refine((v) => decodeKey(v) !== undefined, 'must be 32 bytes, as 64 hex characters or base64')
    .optional(),
  SMTP_URL: z
    .string()
    .trim()
    .refine((v) => /^smtps?:\/\//.test(v) && URL.canParse(v), 'must be an smtp:// or smtps:// URL')
    .optional(),
  WEBHOOK_ALLOW_PRIVATE: z.enum(['0', '1', 'true', 'false']).default('0'),
  AUTO_RESPONSE_DELAY_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  AUTO_RESPONSE_WINDOW_SECONDS: z.coerce.number().int().min(0).max(30 * 86_400).default(86_400),
  IMPORT_ALLOW_PRIVATE: z.enum(['0', '1', 'true', 'false']).default('0'),
  IMPORT_LEASE_SECONDS: z.coerce.number().min(1).max(3_600).default(30),
  IMPORT_SCHEDULER_SECONDS: z.coerce.number().min(0.2).max(3_600).default(15),
  IMPORT_SLICE_SECONDS: z.coerce.number().min(1).max(86_400).default(120),
  PUBLIC_URL: z
    .string()
    .trim()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http(s) URL')
    .optional(),
});

export type Config = Readonly<{
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  logLevel: (typeof LOG_LEVELS)[number];
  inboundDomain: string;
  inboundBasicAuth: string | undefined;
  secretsKey: Buffer | undefined;
  smtpUrl: string | undefined;
  publicUrl: string | undefined;
  /** Lets webhook targets be http:// and private addresses: tests and local development. */
  webhookAllowPrivate: boolean;
  autoResponseDelaySeconds: number;
  autoResponseWindowSeconds: number;
  /** Lets an import connection's base URL be http:// or a private address (the fake provider, sandboxes). */
  importAllowPrivate: boolean;
  /** How long a worker's claim on a run lasts without renewal: a dead worker's run resumes after this. */
  importLeaseSeconds: number;
  /** How often each process looks for due connections and for runs whose worker died. */
  importSchedulerSeconds: number;
  /** How long one job works on a run before it continues in a new job. */
  importSliceSeconds: number;
}>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Accepts a 32-byte key as 64 hex characters or as base64 / base64url. */
export function decodeKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    if (key.length === 32) return key;
  }
  return undefined;
}

/** Reads every setting from the environment at once and names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset", as in most twelve-factor tools.
  const present = Object.fromEntries(
    Object.keys(envSchema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        return `${name}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    inboundDomain: e.INBOUND_DOMAIN,
    inboundBasicAuth: e.INBOUND_BASIC_AUTH,
    secretsKey: e.SECRETS_KEY === undefined ? undefined : decodeKey(e.SECRETS_KEY),
    smtpUrl: e.SMTP_URL,
    publicUrl: e.PUBLIC_URL,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === '1' || e.WEBHOOK_ALLOW_PRIVATE === 'true',
    autoResponseDelaySeconds: e.AUTO_RESPONSE_DELAY_SECONDS,
    autoResponseWindowSeconds: e.AUTO_RESPONSE_WINDOW_SECONDS,
    importAllowPrivate: e.IMPORT_ALLOW_PRIVATE === '1' || e.IMPORT_ALLOW_PRIVATE === 'true',
    importLeaseSeconds: e.IMPORT_LEASE_SECONDS,
    importSchedulerSeconds: e.IMPORT_SCHEDULER_SECONDS,
    importSliceSeconds: e.IMPORT_SLICE_SECONDS,
  });
}
