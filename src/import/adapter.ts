import type { z } from 'zod';

/**
 * The contract between the engine and a provider adapter. An adapter turns its provider's pages
 * into these provider-neutral records; the engine owns the ledger, the writes and the cursors.
 * Every `sourceId` is the provider's id as a string; references between records use them too.
 */

/** Someone the provider knows: a customer (end user, contact) or one of the company's agents. */
export type PersonRecord = {
  sourceId: string;
  role: 'customer' | 'agent';
  name: string | null;
  email: string | null;
  /** The tenant (organisation, company) the person belongs to. */
  tenantSourceId?: string | null | undefined;
  createdAt?: Date | null | undefined;
};

export type TenantRecord = { sourceId: string; externalId: string; name: string };

export type ThreadRecord = {
  sourceId: string;
  title: string;
  status: 'TODO' | 'DONE';
  channel: 'EMAIL' | 'API' | 'CHAT';
  /** The person the thread is with (a customer). */
  customerSourceId: string;
  labels: string[];
  createdAt: Date;
};

export type AttachmentRecord = {
  sourceId: string;
  fileName: string;
  contentType: string;
  size: number;
  inline: boolean;
  /** The bytes, or null when they were not fetched (refused by type or declared size). */
  content: Buffer | null;
  /** Set when the file is refused: Plain's code. */
  refusal?: { code: string; reason: string } | undefined;
};

export type EntryRecord = {
  sourceId: string;
  threadSourceId: string;
  /** A message the customer and the company can see, or an internal note. */
  kind: 'message' | 'note';
  author: { kind: 'person'; sourceId: string; fallbackName: string } | { kind: 'system'; name: string };
  text: string | null;
  html: string | null;
  createdAt: Date;
  attachments: AttachmentRecord[];
};

/** A source record the adapter could not map: recorded with the run, the run goes on. */
export type RecordFailure = { recordType: RecordType; sourceId: string; reason: string; excerpt?: string | undefined };

export type RecordType = 'person' | 'tenant' | 'thread' | 'entry' | 'attachment' | 'label';

/** One page of a stream: its records in dependency order and where the stream stands after it. */
export type StreamPage = {
  people?: PersonRecord[];
  tenants?: TenantRecord[];
  threads?: ThreadRecord[];
  entries?: EntryRecord[];
  /** Source records seen and deliberately not imported (deleted tickets), counted as skipped. */
  skipped?: Array<{ recordType: RecordType; sourceId: string }>;
  failures?: RecordFailure[];
  /** Where the next page starts; stored with this page's writes. */
  cursor: unknown;
  /** True when the stream has nothing more now (a later run resumes from `cursor`). */
  done: boolean;
};

export type LedgerEntry = { entityType: string; entityId: string | null; details: Record<string, unknown> | null };

export type StreamContext = {
  signal: AbortSignal;
  /** Which of these source records the ledger already holds: lets an adapter skip calls for known records. */
  known(recordType: RecordType, sourceIds: string[]): Promise<Map<string, LedgerEntry>>;
};

export type ImportStream = {
  name: string;
  /** The page after `cursor` (null: the very start). Network only; never writes. */
  nextPage(cursor: unknown, ctx: StreamContext): Promise<StreamPage>;
};

export type AdapterSession = {
  /** Dependency order: people and organisations before threads. */
  streams: ImportStream[];
  /** Checks the credentials with one cheap call; throws AuthError when they are refused. */
  verify(signal?: AbortSignal): Promise<{ accountName: string }>;
  close(): void;
};

/** Engine-wide HTTP settings an adapter's client takes over (tests shorten them). */
export type HttpTuning = { allowPrivateAddresses?: boolean | undefined; timeoutMs?: number | undefined; maxInlineWaitMs?: number | undefined; backoffBaseMs?: number | undefined; maxRetries?: number | undefined };

export type ImportAdapter<Credentials = unknown, Settings = unknown> = {
  provider: string;
  credentialsSchema: z.ZodType<Credentials>;
  settingsSchema: z.ZodType<Settings>;
  /** The provider account these settings point at: the ledger's namespace. */
  account(settings: Settings): string;
  /** What may be shown back about the credentials: never a secret. */
  describeCredentials(credentials: Credentials): Record<string, string>;
  /** How the run's counts name each record type (Zendesk: users, tickets, comments). */
  countNames: Readonly<Record<RecordType, string>>;
  open(input: { credentials: Credentials; settings: Settings; userAgent: string; http?: HttpTuning | undefined }): AdapterSession;
};
