import { z } from 'zod';

/**
 * HubSpot's payloads as we read them (CRM API v3, associations v4, account info v3). Envelopes
 * are checked as a whole; each contact and company on its own, so one odd record is a record
 * error instead of a failed page. HubSpot's ids are numeric strings and its property values strings.
 */

const secret = z.string().trim().min(1);

/** A private app's access token (never expires), or OAuth: refreshed through /oauth/v1/token. */
export const privateAppCredentialsSchema = z.object({ accessToken: secret }).strict();
export const oauthCredentialsSchema = z
  .object({
    clientId: secret,
    clientSecret: secret,
    refreshToken: secret,
    /** The latest access token and when it expires (kept sealed by the engine after each refresh). */
    accessToken: secret.optional(),
    expiresAt: z.string().datetime({ offset: true }).optional(),
  })
  .strict();
export const credentialsSchema = z.union([privateAppCredentialsSchema, oauthCredentialsSchema]);
export type HubSpotCredentials = z.infer<typeof credentialsSchema>;
export type OAuthCredentials = z.infer<typeof oauthCredentialsSchema>;

export const settingsSchema = z
  .object({
    /** Tests, sandboxes and the demo: another base URL than https://api.hubapi.com. */
    baseUrl: z.string().trim().url().optional(),
    /** Contacts per list and search page (HubSpot's own maximum for both is 100 here). */
    pageSize: z.number().int().min(1).max(100).optional(),
  })
  .strict();
export type HubSpotSettings = z.infer<typeof settingsSchema>;

const id = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be a date-time');
const text = z.string().nullable().optional();

/** What /oauth/v1/token answers to a refresh. */
export const tokenAnswerSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.number().positive(),
});

/** GET /account-info/v3/details: the portal id names the account; its time zone says when the daily limit resets. */
export const accountDetailsSchema = z.object({
  portalId: z.number().int(),
  timeZone: z.string().nullable().optional(),
  utcOffsetMilliseconds: z.number().nullable().optional(),
  uiDomain: z.string().nullable().optional(),
});
export type AccountDetails = z.infer<typeof accountDetailsSchema>;

const associationRowSchema = z.object({ id, type: z.string().optional() });

export const contactSchema = z.object({
  id,
  properties: z.object({
    email: text,
    hs_additional_emails: text,
    firstname: text,
    lastname: text,
    createdate: text,
    lastmodifieddate: text,
  }),
  createdAt: time,
  updatedAt: time,
  archived: z.boolean().optional(),
  associations: z
    .object({
      companies: z
        .object({
          results: z.array(associationRowSchema),
          // More links than the list shows: read them whole through the v4 batch read.
          paging: z.object({ next: z.object({ after: z.string() }).partial().nullable().optional() }).nullable().optional(),
        })
        .optional(),
    })
    .nullable()
    .optional(),
});
export type HubSpotContact = z.infer<typeof contactSchema>;

export const companySchema = z.object({
  id,
  properties: z.object({ name: text, domain: text }),
  archived: z.boolean().optional(),
});
export type HubSpotCompany = z.infer<typeof companySchema>;

const paging = z.object({ next: z.object({ after: z.string() }).nullable().optional() }).nullable().optional();

/** GET /crm/v3/objects/contacts: no `paging` on the last page. */
export const listPageSchema = z.object({ results: z.array(z.unknown()), paging });
/** POST /crm/v3/objects/contacts/search: `total`, and `paging.next.after` (an offset) until the end or the 10,000 cap. */
export const searchPageSchema = z.object({ total: z.number().int().nonnegative().optional(), results: z.array(z.unknown()), paging });

/** A batch answer's per-input errors (207 Multi-Status), e.g. NO_ASSOCIATIONS_FOUND or OBJECT_NOT_FOUND. */
const batchErrorSchema = z.object({
  status: z.string().optional(),
  category: z.string().optional(),
  subCategory: z.unknown().optional(),
  message: z.string().optional(),
  context: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type BatchError = z.infer<typeof batchErrorSchema>;

/** POST /crm/v3/objects/companies/batch/read. */
export const companiesBatchSchema = z.object({ results: z.array(z.unknown()), errors: z.array(batchErrorSchema).optional() });

/** POST /crm/v4/associations/contacts/companies/batch/read: one result per contact that has companies. */
export const associationsBatchSchema = z.object({
  results: z.array(
    z.object({
      from: z.object({ id }),
      to: z.array(z.object({ toObjectId: id })),
      paging: z.object({ next: z.object({ after: z.string() }).nullable().optional() }).nullable().optional(),
    }),
  ),
  errors: z.array(batchErrorSchema).optional(),
});

/** HubSpot's error body: `{ status: "error", message, correlationId, category, errors: [...] }`, and a 429's `policyName`. */
export const errorBodySchema = z.object({
  status: z.string().optional(),
  message: z.string().optional(),
  correlationId: z.string().optional(),
  category: z.string().optional(),
  policyName: z.string().optional(),
  errorType: z.string().optional(),
  errors: z.array(z.object({ message: z.string().optional(), context: z.record(z.string(), z.unknown()).nullable().optional() }).passthrough()).optional(),
});
export type HubSpotErrorBody = z.infer<typeof errorBodySchema>;
