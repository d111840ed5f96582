/**
 * Plain's webhook schema versions, oldest first. Each release of Plain's SDK accepts exactly one
 * (@team-plain/typescript-sdk 5.10 -> 2024-09-18, 5.11 -> 2025-08-06, 5.12 -> 2026-02-27), so a
 * target delivers in the one its receiver's SDK reads. What changes between them is in
 * plain-payloads.ts (`payloadForVersion`).
 */
export const WEBHOOK_VERSIONS = ['2024-09-18', '2025-08-06', '2026-02-27'] as const;
export type WebhookVersion = (typeof WEBHOOK_VERSIONS)[number];

export const LATEST_WEBHOOK_VERSION: WebhookVersion = WEBHOOK_VERSIONS[WEBHOOK_VERSIONS.length - 1]!;

// None is deprecated: every version is delivered, and none is scheduled to stop.
const DEPRECATED: ReadonlySet<WebhookVersion> = new Set();

export function isWebhookVersion(value: unknown): value is WebhookVersion {
  return typeof value === 'string' && (WEBHOOK_VERSIONS as readonly string[]).includes(value);
}

/** As Plain's `webhookVersions` query answers: newest first. */
export function listWebhookVersions(): { version: WebhookVersion; isLatest: boolean; isDeprecated: boolean }[] {
  return [...WEBHOOK_VERSIONS].reverse().map((version) => ({ version, isLatest: version === LATEST_WEBHOOK_VERSION, isDeprecated: DEPRECATED.has(version) }));
}
