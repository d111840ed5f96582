import { createHmac, randomBytes } from 'node:crypto';

/** Plain-Request-Signature: hex HMAC-SHA256 of the exact body with the workspace's secret. */
export function plainSignature(body: string, workspaceSecret: string): string {
  return createHmac('sha256', workspaceSecret).update(body).digest('hex');
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

const SECRET_PREFIX = 'whsec_';

/**
 * Standard Webhooks' `v1,` signature: base64 HMAC-SHA256, keyed by the secret's base64 bytes, of
 * `id.timestamp.body`. What the `standardwebhooks` package's Webhook.sign computes (the tests
 * verify with it), with node:crypto's native HMAC instead of its JavaScript SHA-256, which cost
 * more per delivery than the POST's own writing.
 */
export function standardSignature(id: string, at: Date, body: string, secret: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${Math.floor(at.getTime() / 1000)}.${body}`).digest('base64')}`;
}

/** Standard Webhooks headers; with a previous secret still valid, both signatures are sent. */
export function standardWebhookHeaders(id: string, at: Date, body: string, secrets: string[]): Record<string, string> {
  const signatures = secrets.map((s) => standardSignature(id, at, body, s));
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signatures.join(' ') };
}
