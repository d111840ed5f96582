import { z } from 'zod';

/**
 * Salesforce's payloads as we read them (REST API, OAuth 2.0 refresh-token flow). Query pages are
 * checked as an envelope; each record is checked on its own so one odd record becomes a record
 * error instead of a failed page.
 */

export const credentialsSchema = z
  .object({
    /** The connected app's consumer key. */
    clientId: z.string().trim().min(1),
    clientSecret: z.string().trim().min(1),
    refreshToken: z.string().trim().min(1),
  })
  .strict();
export type SalesforceCredentials = z.infer<typeof credentialsSchema>;

export const DEFAULT_API_VERSION = 'v62.0';
export const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';

/** `login.salesforce.com`, `https://test.salesforce.com/`, `https://acme.my.salesforce.com` -> the origin alone. */
const loginUrl = z
  .string()
  .trim()
  .min(1)
  .transform((v, ctx) => {
    const url = URL.parse(/^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `https://${v}`);
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
      ctx.addIssue({ code: 'custom', message: 'must be a login host such as https://login.salesforce.com, https://test.salesforce.com or the org\'s My Domain' });
      return z.NEVER;
    }
    return url.origin;
  });

export const settingsSchema = z
  .object({
    /** Where the refresh token is exchanged: login.salesforce.com, test.salesforce.com (sandboxes) or the org's My Domain. */
    loginUrl,
    /** `v62.0` or `62.0`; calls go to /services/data/<version>/. */
    apiVersion: z
      .string()
      .trim()
      .regex(/^v?\d{2,3}\.\d$/, 'must be an API version such as v62.0')
      .transform((v) => (v.startsWith('v') ? v : `v${v}`))
      .optional(),
    /** Records per query page asked with Sforce-Query-Options (Salesforce allows 200 to 2,000; it may send fewer). */
    batchSize: z.number().int().min(200).max(2000).optional(),
    /** The share of the org's daily API allocation past which a run stops (default 80). */
    maxOrgApiUsagePercent: z.number().min(1).max(100).optional(),
    /** Calls one run may spend before it stops until later (default 1,000). */
    maxCallsPerRun: z.number().int().min(1).optional(),
    /** How long a run stopped by the allocation waits before it looks again (default 60). */
    allocationPauseMinutes: z.number().positive().max(24 * 60).optional(),
  })
  .strict();
export type SalesforceSettings = z.infer<typeof settingsSchema>;

/** The token endpoint's answer to a refresh (a new refresh_token only with rotation turned on). */
export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  instance_url: z.string().url(),
  /** The identity URL: https://login.salesforce.com/id/<organization id>/<user id>. */
  id: z.string().optional(),
  token_type: z.string().optional(),
  issued_at: z.string().optional(),
  refresh_token: z.string().min(1).optional(),
});

/** Salesforce ids: 15 case-sensitive characters, or 18 with the case-insensitive suffix. */
export const salesforceId = z.string().regex(/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/, 'must be a Salesforce id');

/** `2026-05-06T10:00:00.000+0000`, the form every datetime comes back in. */
const datetime = z.string().refine((v) => parseSalesforceTime(v) !== null, 'must be a Salesforce datetime');

/** A Salesforce datetime as a Date; its `+0000` offset has no colon, which not every parser takes. */
export function parseSalesforceTime(value: string): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(Z|[+-]\d{2}:?\d{2})$/.exec(value);
  if (!m) return null;
  const zone = m[2] === 'Z' ? 'Z' : `${m[2]!.slice(0, 3)}:${m[2]!.slice(-2)}`;
  const at = new Date(`${m[1]}${zone}`);
  return Number.isNaN(at.getTime()) ? null : at;
}

const optionalText = z.string().nullable().optional();

/** An Account as the contact query's relationship fields or the account query return it. */
export const accountSchema = z.object({ Id: salesforceId, Name: optionalText, Website: optionalText });
export type SalesforceAccount = z.infer<typeof accountSchema>;

export const contactSchema = z.object({
  Id: salesforceId,
  FirstName: optionalText,
  LastName: optionalText,
  Email: optionalText,
  AccountId: salesforceId.nullable().optional(),
  /** The relationship: absent when not asked for or not returned, null when the contact has no readable account. */
  Account: z.object({ Name: optionalText, Website: optionalText }).nullable().optional(),
  CreatedDate: datetime,
  SystemModstamp: datetime,
});
export type SalesforceContact = z.infer<typeof contactSchema>;

/** One page of a SOQL query: records are checked one by one later. */
export const queryPageSchema = z.object({
  totalSize: z.number().int().nonnegative().optional(),
  done: z.boolean(),
  nextRecordsUrl: z.string().nullable().optional(),
  records: z.array(z.unknown()),
});
export type QueryPage = z.infer<typeof queryPageSchema>;

/** GET /services/data/vNN.N/: the resources of that version, with the caller's identity URL. */
export const resourcesSchema = z.object({ identity: z.string().min(1) });

/** GET /services/data/vNN.N/limits: the daily API allocation. */
export const limitsSchema = z.object({ DailyApiRequests: z.object({ Max: z.number().nonnegative(), Remaining: z.number() }) });

/** Salesforce's error body: `[{ message, errorCode, fields }]`. */
export const errorBodySchema = z.array(z.object({ message: z.string().optional(), errorCode: z.string().optional(), fields: z.array(z.string()).optional() }));

/** The organization id from an identity URL (`.../id/<org id>/<user id>`). */
export function organizationIdOf(identityUrl: string): string | null {
  const m = /\/id\/([a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?)\/[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?\/?$/.exec(identityUrl.trim());
  return m ? m[1]! : null;
}
