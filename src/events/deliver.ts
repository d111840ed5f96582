import http from 'node:http';
import https from 'node:https';
import type { Pool } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { decryptSecret } from '../secret-box.ts';
import type { ClaimedDelivery } from './claim-deliveries.ts';
import type { RecordedAttempt } from './deliveries.ts';
import { buildPlainPayload, plainWebhookBody } from './plain-payloads.ts';
import { delayBeforeAttempt } from './retry-schedule.ts';
import { postWebhook } from './post-webhook.ts';
import { plainSignature, standardSignature } from './signing.ts';
import { publicOnlyLookup } from '../net/address-guard.ts';
import { deliveryEndpoint } from './webhook-targets.ts';

export type DeliveryDeps = {
  pool: Pool;
  secretsKey: Buffer;
  allowPrivate: boolean;
  /** 10 s in production. */
  timeoutMs: number;
  /** Speeds the retry schedule up for tests: 0.001 makes a day 86 s. */
  timeScale: number;
  userAgent: string;
};

// Keep-alive agents shared by all deliveries of this process; their lookup refuses non-public
// addresses (unless allowed), so every new connection is checked where it is made.
const AGENTS = new Map<boolean, { http: http.Agent; https: https.Agent }>();
function agentsFor(allowPrivate: boolean) {
  let agents = AGENTS.get(allowPrivate);
  if (!agents) {
    const lookup = publicOnlyLookup(allowPrivate);
    agents = { http: new http.Agent({ keepAlive: true, lookup, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, lookup, maxSockets: 64 }) };
    AGENTS.set(allowPrivate, agents);
  }
  return agents;
}

// How long a built payload is reused for the same event's other targets: the targets of one event
// are claimed in different batches, and reading the thread again for each costs more than the POST.
export const PAYLOAD_REUSE_MS = 2000;

/**
 * What the deliveries of one worker share for a moment: each event's Plain payload is read once
 * for all its targets (within PAYLOAD_REUSE_MS), each secret decrypted once per ciphertext.
 */
export function deliveryContext(deps: DeliveryDeps) {
  const payloads = new Map<string, { at: number; payload: Promise<Record<string, unknown>> }>();
  const secrets = new Map<string, string>();
  const endpoints = new Map<string, { url: string; authorization: string | null }>();
  const decrypt = (ciphertext: string, boundTo: string) => {
    const key = `${boundTo}:${ciphertext}`;
    let secret = secrets.get(key);
    if (secret === undefined) {
      if (secrets.size > 10_000) secrets.clear();
      secrets.set(key, (secret = decryptSecret(deps.secretsKey, ciphertext, boundTo)));
    }
    return secret;
  };
  return {
    payload(d: ClaimedDelivery): Promise<Record<string, unknown>> {
      const now = Date.now();
      const hit = payloads.get(d.event.id);
      if (hit && now - hit.at < PAYLOAD_REUSE_MS) return hit.payload;
      for (const [id, p] of payloads) if (now - p.at >= PAYLOAD_REUSE_MS) payloads.delete(id);
      const payload = buildPlainPayload(deps.pool, d.event);
      payloads.set(d.event.id, { at: now, payload });
      // A failed read is not reused.
      payload.catch(() => payloads.delete(d.event.id));
      return payload;
    },
    /** The target's URL without credentials and its Authorization, per (target, URL, password). */
    endpoint(d: ClaimedDelivery): { url: string; authorization: string | null } {
      const { target } = d;
      const key = `${target.id} ${target.url} ${target.urlPasswordEncrypted ?? ''}`;
      let endpoint = endpoints.get(key);
      if (!endpoint) {
        if (endpoints.size > 10_000) endpoints.clear();
        endpoints.set(key, (endpoint = deliveryEndpoint(deps.secretsKey, target)));
      }
      return endpoint;
    },
    workspaceSecret: (d: ClaimedDelivery) => decrypt(d.workspaceSecretEncrypted, d.event.workspaceId),
    /** The target's current signing secret, and the previous one while its overlap lasts. */
    signingSecrets: (d: ClaimedDelivery) => [d.target.signingSecretEncrypted, ...(d.target.previousSigningSecretEncrypted ? [d.target.previousSigningSecretEncrypted] : [])].map((c) => decrypt(c, d.target.id)),
  };
}
export type DeliveryContext = ReturnType<typeof deliveryContext>;

export type AttemptOutcome = RecordedAttempt & { targetId: string; gone: boolean };

/**
 * One attempt, Plain's contract: only 2xx is success, a redirect is a failure and is not
 * followed, 410 disables the target. Returns what to record (the caller records it after the
 * POST; a crash in between leaves the claim to expire and the attempt is sent again and
 * recorded once). A body that cannot be built is a failed attempt on the same schedule.
 */
export async function attemptDelivery(deps: DeliveryDeps, ctx: DeliveryContext, d: ClaimedDelivery): Promise<AttemptOutcome> {
  const { target, event } = d;
  const attemptId = newId('webhookAttempt');
  const attemptedAt = new Date();
  const started = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const body = JSON.stringify(
      plainWebhookBody(event, await ctx.payload(d), {
        webhookTargetId: target.id,
        webhookTargetVersion: target.version,
        attemptId,
        attemptNumber: d.attempt,
        attemptTimestamp: attemptedAt,
      }),
    );
    const { url, authorization: auth } = ctx.endpoint(d);
    // One literal, no spreads: built for every attempt.
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'User-Agent': deps.userAgent,
      'Plain-Workspace-Id': event.workspaceId,
      'Plain-Webhook-Target-Id': target.id,
      'Plain-Webhook-Target-Version': target.version,
      'Plain-Webhook-Delivery-Attempt-Id': attemptId,
      'Plain-Webhook-Delivery-Attempt-Number': String(d.attempt),
      'Plain-Webhook-Delivery-Attempt-Timestamp': attemptedAt.toISOString(),
      'Plain-Event-Type': event.type,
      'Plain-Event-Id': event.id,
      'Plain-Request-Signature': plainSignature(body, ctx.workspaceSecret(d)),
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(attemptedAt.getTime() / 1000)),
      'webhook-signature': ctx
        .signingSecrets(d)
        .map((secret) => standardSignature(event.id, attemptedAt, body, secret))
        .join(' '),
    };
    if (auth) headers.Authorization = auth;
    try {
      statusCode = await postWebhook(url, body, headers, { timeoutMs: deps.timeoutMs, agents: agentsFor(deps.allowPrivate) });
      if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
    } catch (err) {
      error = (err as { code?: string; message?: string }).code ?? (err as Error).message ?? String(err);
    }
  } catch (err) {
    // Nothing was sent: the event has no truthful body (or its rows are gone).
    error = `not sent: ${(err as Error).message ?? String(err)}`;
  }
  const durationMs = Math.round(performance.now() - started);
  const delivered = error === null;
  const gone = statusCode === 410;
  const nextDelay = delivered || gone ? null : delayBeforeAttempt(d.attempt + 1, deps.timeScale);
  return {
    id: attemptId,
    deliveryId: d.id,
    workspaceId: event.workspaceId,
    targetId: target.id,
    number: d.attempt,
    attemptedAt,
    statusCode,
    durationMs,
    error,
    gone,
    status: delivered ? 'delivered' : nextDelay === null ? 'failed' : 'pending',
    nextAttemptAt: nextDelay === null ? null : new Date(Date.now() + nextDelay),
  };
}
