import { z } from 'zod';

/**
 * Help Scout's Mailbox API 2.0 payloads as we read them. Pages are checked as a whole, each record
 * on its own (one odd record is a record error, the page goes on), and each record only for what
 * the import uses: embedded sub-resources vary between accounts and API ages.
 */

export const credentialsSchema = z
  .object({
    /** The OAuth app's id and secret (client credentials). */
    appId: z.string().trim().min(1).max(200),
    appSecret: z.string().trim().min(1).max(500),
    /** The latest access token and when it expires, kept (sealed) so a run does not ask for a new one. */
    accessToken: z.string().min(1).optional(),
    accessTokenExpiresAt: z.iso.datetime().optional(),
  })
  .strict();
export type HelpScoutCredentials = z.infer<typeof credentialsSchema>;

const mailboxId = z.number().int().positive();

export const settingsSchema = z
  .object({
    /** Only these mailboxes' conversations; all of them when left out. */
    mailboxIds: z
      .array(mailboxId)
      .min(1)
      .max(500)
      .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a mailbox')
      .optional(),
    /** Tests, sandboxes and the demo: the fake provider server instead of https://api.helpscout.net. */
    baseUrl: z.string().trim().url().optional(),
    /**
     * The length of Help Scout's rate-limit window: a minute, as its `X-RateLimit-*-Minute` headers
     * say. Only a server with a scaled-down window (the fake provider's benchmark) sets another.
     */
    rateLimitWindowSeconds: z.number().int().min(1).max(3600).optional(),
    /** Thread lists and customers fetched at once. */
    concurrency: z.number().int().min(1).max(16).optional(),
  })
  .strict();
export type HelpScoutSettings = z.infer<typeof settingsSchema>;

const id = z.number().int();
const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be a date-time');
const text = z.string().nullable().optional();

/** OAuth's token answer (`token_type` is "bearer"). */
export const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive(), token_type: z.string().optional() });

/** GET /v2/users/me: the user the app belongs to, and (on current accounts) the company id. */
export const meSchema = z.object({
  id,
  firstName: text,
  lastName: text,
  email: text,
  companyId: id.nullable().optional(),
});

/** A HAL list page: the records under `_embedded.<key>` (absent when there are none) and the page facts. */
export const halPageSchema = <K extends string>(key: K) =>
  z.object({
    _embedded: z.object({ [key]: z.array(z.unknown()) }).partial().optional(),
    page: z.object({ number: z.number().int().nonnegative(), totalPages: z.number().int().nonnegative() }),
  }) as unknown as z.ZodType<{ _embedded?: Partial<Record<K, unknown[]>>; page: { number: number; totalPages: number } }>;

export const mailboxSchema = z.object({ id, name: text });

/** An email of a customer: anything without a string value is ignored. */
export const customerEmailSchema = z.object({ value: z.string() });

export const customerSchema = z.object({
  id,
  firstName: text,
  lastName: text,
  createdAt: time.nullable().optional(),
  _embedded: z.object({ emails: z.array(z.unknown()).nullable().optional() }).nullable().optional(),
});
export type HelpScoutCustomer = z.infer<typeof customerSchema>;

/** A person as a conversation or thread names them: `type` is customer, user or team. */
export const personRefSchema = z.object({
  id,
  type: z.string().optional(),
  first: text,
  last: text,
  email: text,
});
export type PersonRef = z.infer<typeof personRefSchema>;

export const attachmentSchema = z.object({
  id,
  filename: z.string().nullable().optional(),
  mimeType: z.string().nullable().optional(),
  /** Not always present. */
  size: z.number().int().nonnegative().nullable().optional(),
  /** valid, or virus: Help Scout found malicious content. */
  state: z.string().nullable().optional(),
});

export const threadSchema = z.object({
  id,
  type: z.string(),
  state: z.string().nullable().optional(),
  body: text,
  createdAt: time,
  createdBy: personRefSchema.nullable().optional(),
  customer: personRefSchema.nullable().optional(),
  _embedded: z.object({ attachments: z.array(attachmentSchema).nullable().optional() }).nullable().optional(),
});
export type HelpScoutThread = z.infer<typeof threadSchema>;

export const conversationSchema = z.object({
  id,
  number: id.nullable().optional(),
  /** How many threads the conversation has: more than the embed holds means the threads list is read. */
  threads: z.number().int().nonnegative().nullable().optional(),
  type: z.string().nullable().optional(),
  status: z.enum(['active', 'pending', 'closed', 'spam', 'open']),
  state: z.string().nullable().optional(),
  subject: text,
  preview: text,
  mailboxId: id.nullable().optional(),
  createdAt: time,
  primaryCustomer: personRefSchema.nullable().optional(),
  tags: z.array(z.object({ tag: z.string() }).passthrough()).nullable().optional(),
  _embedded: z.object({ threads: z.array(z.unknown()).nullable().optional() }).nullable().optional(),
});
export type HelpScoutConversation = z.infer<typeof conversationSchema>;

/** GET …/attachments/{id}/data */
export const attachmentDataSchema = z.object({ data: z.string() });

/** Help Scout's error body (HAL): a message, a logRef for its support team, and field errors. */
export const errorBodySchema = z.object({
  logRef: z.string().optional(),
  message: z.string().optional(),
  _embedded: z
    .object({
      errors: z.array(z.object({ path: z.string().nullable().optional(), message: z.string().nullable().optional(), rejectedValue: z.unknown().optional() }).passthrough()).optional(),
    })
    .passthrough()
    .optional(),
});
