import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Plain-Request-Signature: hex HMAC-SHA256 of the exact body with the workspace's secret. */
export function plainSignature(body: string, workspaceSecret: string): string {
  return createHmac('sha256', workspaceSecret).update(body).digest('hex');
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Standard Webhooks headers; with a previous secret still valid, both signatures are sent. */
export function standardWebhookHeaders(id: string, at: Date, body: string, secrets: string[]): Record<string, string> {
  const signatures = secrets.map((s) => new Webhook(s).sign(id, at, body));
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signatures.join(' ') };
}
