import { z } from 'zod';

/**
 * Zendesk's payloads as we read them (Support API v2). Pages are checked as a whole; each record
 * is checked on its own so one odd record becomes a record error instead of a failed page.
 */

export const credentialsSchema = z.union([
  z.object({ email: z.string().trim().email(), apiToken: z.string().trim().min(1) }).strict(),
  z.object({ oauthToken: z.string().trim().min(1) }).strict(),
]);
export type ZendeskCredentials = z.infer<typeof credentialsSchema>;

export const settingsSchema = z
  .object({
    // Nothing but a subdomain can reach the URL: no dots, slashes or ports.
    subdomain: z.string().trim().toLowerCase().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a Zendesk subdomain such as acme (letters, digits and hyphens)').max(63),
    /** Tests, sandboxes and the demo: the fake provider server instead of https://{subdomain}.zendesk.com. */
    baseUrl: z.string().trim().url().optional(),
    /** Records per export page (Zendesk allows up to 1000). */
    pageSize: z.number().int().min(1).max(1000).optional(),
    /** Comment lists fetched at once. */
    concurrency: z.number().int().min(1).max(32).optional(),
  })
  .strict();
export type ZendeskSettings = z.infer<typeof settingsSchema>;

const id = z.number().int();
const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be a date-time');

export const userSchema = z.object({
  id,
  name: z.string().nullable().optional(),
  email: z.string().nullable().optional(),
  role: z.string(),
  organization_id: id.nullable().optional(),
  created_at: time,
  updated_at: time.optional(),
});
export type ZendeskUser = z.infer<typeof userSchema>;

export const ticketSchema = z.object({
  id,
  subject: z.string().nullable().optional(),
  raw_subject: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  status: z.enum(['new', 'open', 'pending', 'hold', 'solved', 'closed', 'deleted']),
  requester_id: id,
  tags: z.array(z.string()).default([]),
  via: z.object({ channel: z.union([z.string(), z.number()]) }).partial().nullable().optional(),
  created_at: time,
});
export type ZendeskTicket = z.infer<typeof ticketSchema>;

export const attachmentSchema = z.object({
  id,
  file_name: z.string(),
  content_url: z.string(),
  content_type: z.string().nullable().optional(),
  size: z.number().int().nonnegative(),
  inline: z.boolean().optional(),
});

export const commentSchema = z.object({
  id,
  author_id: id,
  body: z.string().nullable().optional(),
  plain_body: z.string().nullable().optional(),
  html_body: z.string().nullable().optional(),
  public: z.boolean(),
  attachments: z.array(attachmentSchema).default([]),
  created_at: time,
});
export type ZendeskComment = z.infer<typeof commentSchema>;

/** A cursor-based incremental export page: records are checked one by one later. */
export const exportPageSchema = (key: 'users' | 'tickets') =>
  z.object({
    [key]: z.array(z.unknown()),
    after_cursor: z.string().nullable().optional(),
    end_of_stream: z.boolean(),
  }) as unknown as z.ZodType<{ after_cursor?: string | null; end_of_stream: boolean } & Record<typeof key, unknown[]>>;

export const commentsPageSchema = z.object({
  comments: z.array(z.unknown()),
  meta: z.object({ has_more: z.boolean(), after_cursor: z.string().nullable().optional() }),
  links: z.object({ next: z.string().nullable().optional() }).partial().optional(),
});

export const usersListSchema = z.object({ users: z.array(z.unknown()) });
export const meSchema = z.object({ user: z.object({ id, name: z.string().nullable().optional(), role: z.string().optional() }) });

export const organizationSchema = z.object({ id, name: z.string(), external_id: z.string().nullable().optional() });
export type ZendeskOrganization = z.infer<typeof organizationSchema>;

export const organizationsPageSchema = z.object({
  organizations: z.array(z.unknown()),
  meta: z.object({ has_more: z.boolean(), after_cursor: z.string().nullable().optional() }),
});
