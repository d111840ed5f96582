import type { z } from 'zod';
import type { ProviderClient } from './http-client.ts';
import type { RateLimitPolicy, ResponseHeaders } from './rate-limiter.ts';

/**
 * The contract between the engine and a provider adapter. An adapter describes its provider's
 * API (how to authenticate, where to call, how to read its errors and pages) and maps its records
 * to these provider-neutral ones; the engine owns the HTTP client, credentials, the ledger, the
 * writes, the cursors and attachment downloads. Every `sourceId` is the provider's id as a
 * string; references between records use them too.
 */

/** Someone the provider knows: a customer (end user, contact) or one of the company's agents. */
export type PersonRecord = {
  sourceId: string;
  role: 'customer' | 'agent';
  name: string | null;
  /** Every address the provider has, the person's primary one first; empty when it has none. */
  emails: string[];
  /** The tenants (organisations, companies, accounts) the person belongs to. */
  tenantSourceIds?: string[] | undefined;
  createdAt?: Date | null | undefined;
};

export type TenantRecord = { sourceId: string; externalId: string; name: string; domain?: string | null | undefined };

export type ThreadStatus = 'TODO' | 'SNOOZED' | 'DONE';

export type ThreadRecord = {
  sourceId: string;
  title: string;
  status: ThreadStatus;
  channel: 'EMAIL' | 'API' | 'CHAT';
  /**
   * The person the thread is with. An agent gets a customer record of their own; someone the
   * provider no longer knows (a deleted user) gets a customer without email named `customerFallbackName`.
   */
  customerSourceId: string;
  customerFallbackName?: string | undefined;
  labels: string[];
  createdAt: Date;
};

/** Where an attachment's bytes are: the engine fetches them, within Plain's rules and budgets. */
export type AttachmentSource =
  /** A URL on the provider (it may redirect to a file host, which never gets the credentials). */
  | { kind: 'url'; url: string }
  /** An API call answering JSON that holds the file base64-encoded. */
  | { kind: 'base64'; path: string; select: (body: unknown) => string | null };

export type AttachmentRecord = {
  sourceId: string;
  fileName: string;
  contentType: string;
  /** The size the provider declares; the pre-check spends the budgets on it before any download. */
  size: number;
  inline: boolean;
  source: AttachmentSource;
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
export type StreamPage<Cursor = unknown> = {
  people?: PersonRecord[];
  tenants?: TenantRecord[];
  threads?: ThreadRecord[];
  entries?: EntryRecord[];
  /** Source records seen and deliberately not imported (deleted tickets), counted as skipped. */
  skipped?: Array<{ recordType: RecordType; sourceId: string }>;
  failures?: RecordFailure[];
  /** Where the next page starts; stored with this page's writes. */
  cursor: Cursor;
  /** True when the stream has nothing more now (a later run resumes from `cursor`). */
  done: boolean;
};

export type LedgerEntry = { entityType: string; entityId: string | null; details: Record<string, unknown> | null };

export type StreamContext = {
  signal: AbortSignal;
  /** Which of these source records the ledger already holds: lets an adapter skip calls for known records. */
  known(recordType: RecordType, sourceIds: string[]): Promise<Map<string, LedgerEntry>>;
};

export type ImportStream<Cursor = any> = {
  name: string;
  /**
   * The shape of this stream's cursor. The engine checks a stored cursor against it before use:
   * one written by an older release that no longer fits is refused with a clear error, never misread.
   */
  cursorSchema: z.ZodType<Cursor>;
  /** The page after `cursor` (null: the very start). Network only; never writes. */
  nextPage(cursor: Cursor | null, ctx: StreamContext): Promise<StreamPage<Cursor>>;
};

/** Who the credentials belong to: the account id namespaces the ledger. */
export type AccountInfo = {
  /** The provider's stable account id: Zendesk subdomain, Help Scout company id, HubSpot portal id, Salesforce organization id. */
  accountId: string;
  accountName: string;
};

export type AdapterSession = {
  /** Dependency order: people and organisations before threads. */
  streams: ImportStream[];
  /** Checks the credentials with one cheap call and says whose they are; AuthError when refused. */
  verify(signal?: AbortSignal): Promise<AccountInfo>;
};

/** What the engine's requester sends: headers, and for how long they hold. */
export type AuthGrant = {
  headers: Readonly<Record<string, string>>;
  /** When the grant stops working; the engine refreshes a minute before. Null: it does not expire. */
  expiresAt?: Date | null | undefined;
  /** The base URL this grant is for (Salesforce answers the org's instance_url with its tokens). */
  baseUrl?: string | null | undefined;
  /** New or rotated credentials to keep: the engine seals and saves them, never the adapter. */
  credentials?: unknown;
};

/** The token endpoint, called through the engine's guarded client (private addresses, timeouts). */
export type TokenEndpoint = {
  /**
   * POSTs an `application/x-www-form-urlencoded` form (no Authorization header unless given) and
   * answers the JSON body of a 2xx. 400/401/403 throw AuthError with the provider's words
   * (OAuth's `error_description`); 429, 5xx and network failures throw RetryLaterError.
   */
  postForm(url: string, form: Readonly<Record<string, string>>, options?: { headers?: Readonly<Record<string, string>>; signal?: AbortSignal | undefined }): Promise<unknown>;
};

export type Authenticator = {
  /** The grant the stored credentials give without a call (an API token, an access token still valid), or null. */
  initial: AuthGrant | null;
  /** A fresh grant: before expiry, once on a 401, and at the start when `initial` is null. Throws AuthError when refused. */
  refresh?: ((tokens: TokenEndpoint, signal: AbortSignal | undefined) => Promise<AuthGrant>) | undefined;
};

/** An error response, as an adapter's classifier sees it. */
export type ErrorResponse = {
  method: string;
  path: string;
  status: number;
  headers: ResponseHeaders;
  /** Parsed JSON when the body is JSON, else its text (possibly empty). */
  body: unknown;
  /** The provider's message as the engine reads it generically. */
  message: string | undefined;
};

/** The engine's four classes; `message` replaces the generic one (the provider's own words). */
export type ErrorVerdict =
  | { class: 'retry_later'; waitMs?: number | undefined; message?: string | undefined }
  /** Revoked credentials, or something only the customer can fix (a plan, a disabled API). */
  | { class: 'needs_reauth'; message: string }
  | { class: 'record_error'; reason?: 'not_found' | 'unprocessable' | 'refused' | undefined; message?: string | undefined }
  | { class: 'fail'; message?: string | undefined };

/** How to call a provider: the requester's description, from credentials and settings. */
export type Requester = {
  baseUrl: string;
  auth: Authenticator;
  /** Reads the provider's budget headers; the IETF `RateLimit-*` headers when left out. */
  rateLimit?: RateLimitPolicy | undefined;
  /**
   * POST paths that only read (HubSpot searches and batch reads, token endpoints aside). Every
   * other POST, and any PUT, PATCH or DELETE, is refused: an import never writes to the provider.
   */
  readOnlyPosts?: readonly RegExp[] | undefined;
  /** Looks at an error response before the engine's defaults; undefined leaves it to them. */
  classifyError?: ((response: ErrorResponse) => ErrorVerdict | undefined) | undefined;
  /** The provider's own pacing, where it differs from the engine's defaults. */
  timeoutMs?: number | undefined;
  maxInlineWaitMs?: number | undefined;
};

/** Engine-wide HTTP settings (tests shorten them); they win over the adapter's. */
export type HttpTuning = { allowPrivateAddresses?: boolean | undefined; timeoutMs?: number | undefined; maxInlineWaitMs?: number | undefined; backoffBaseMs?: number | undefined; maxRetries?: number | undefined };

/** One command-line option of `intake import connect <provider>`. */
export type CliOption = {
  /** Commander's syntax: `--subdomain <name>`. */
  flags: string;
  description: string;
  required?: boolean | undefined;
};

/** A secret the CLI reads from the environment (argv shows in `ps`), or from a flag where allowed. */
export type CliSecret = { env: string; description: string };

export type CliSpec<Credentials, Settings> = {
  options: readonly CliOption[];
  secrets: readonly CliSecret[];
  /** Credentials and settings from the parsed options (camelCase keys) and the secrets found; a string is what is missing. */
  build(options: Record<string, unknown>, secrets: Readonly<Record<string, string | undefined>>): { credentials: Credentials; settings: Settings } | string;
};

export type ImportAdapter<Credentials = unknown, Settings = unknown> = {
  provider: string;
  /** The provider's name for people (`Zendesk`, `Help Scout`). */
  displayName: string;
  credentialsSchema: z.ZodType<Credentials>;
  settingsSchema: z.ZodType<Settings>;
  /** What may be shown back about the credentials: never a secret. */
  describeCredentials(credentials: Credentials): Record<string, string>;
  /** How the run's counts name each record type (Zendesk: users, tickets, comments). */
  countNames: Readonly<Record<RecordType, string>>;
  requester(input: { credentials: Credentials; settings: Settings }): Requester;
  open(input: { client: ProviderClient; settings: Settings }): AdapterSession;
  cli: CliSpec<Credentials, Settings>;
};
