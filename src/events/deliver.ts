import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { sendInTransaction } from '../queue/boss.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { decryptSecret } from '../secret-box.ts';
import { recordAttempt } from './deliveries.ts';
import { buildPlainPayload, plainWebhookBody, type EventRow } from './plain-payloads.ts';
import { delayBeforeAttempt } from './retry-schedule.ts';
import { plainSignature, standardWebhookHeaders } from './signing.ts';
import { publicOnlyLookup } from '../net/address-guard.ts';
import { deliveryEndpoint, disableWebhookTarget, signingSecrets } from './webhook-targets.ts';

export type DeliveryDeps = {
  pool: Pool;
  boss: PgBoss;
  secretsKey: Buffer;
  allowPrivate: boolean;
  /** 10 s in production. */
  timeoutMs: number;
  /** Speeds the retry schedule up for tests: 0.001 makes a day 86 s. */
  timeScale: number;
  userAgent: string;
};

export type DeliveryJob = { deliveryId: string; attempt: number };

/** Sends one webhook delivery job, in the target's group so one target's backlog caps itself. */
export async function enqueueDelivery(boss: PgBoss, tx: Parameters<typeof sendInTransaction>[1], job: DeliveryJob & { targetId: string }, startAfterMs = 0): Promise<void> {
  await sendInTransaction(boss, tx, QUEUES.webhookDelivery, { deliveryId: job.deliveryId, attempt: job.attempt }, {
    group: { id: job.targetId },
    ...(startAfterMs > 0 ? { startAfter: new Date(Date.now() + startAfterMs) } : {}),
  });
}

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

type Loaded = { target: { id: string; url: string; urlPasswordEncrypted: string | null; version: string; enabled: boolean }; workspaceSecret: string; event: EventRow; status: string };

async function load(deps: DeliveryDeps, deliveryId: string): Promise<Loaded | null> {
  const { rows } = await deps.pool.query(
    `SELECT d.status, t.id AS target_id, t.url, t.url_password_encrypted, t.version, t.enabled, w.id AS workspace_id, w.webhook_secret_encrypted,
            e.id AS event_id, e.type, e.payload, e.created_at
       FROM webhook_deliveries d
       JOIN webhook_targets t ON t.id = d.target_id AND t.workspace_id = d.workspace_id
       JOIN workspaces w ON w.id = d.workspace_id
       JOIN events e ON e.id = d.event_id AND e.workspace_id = d.workspace_id
      WHERE d.id = $1`,
    [deliveryId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    status: r.status,
    target: { id: r.target_id, url: r.url, urlPasswordEncrypted: r.url_password_encrypted, version: r.version, enabled: r.enabled },
    workspaceSecret: decryptSecret(deps.secretsKey, r.webhook_secret_encrypted, r.workspace_id),
    event: { id: r.event_id, workspaceId: r.workspace_id, type: r.type, payload: r.payload, createdAt: r.created_at },
  };
}

/**
 * One attempt, Plain's contract: only 2xx is success, a redirect is a failure and is not
 * followed, 410 disables the target. The attempt is recorded and the next one scheduled in one
 * transaction after the POST; a crash in between re-runs the job: delivered at least once,
 * recorded once.
 */
export async function deliverOnce(deps: DeliveryDeps, job: DeliveryJob): Promise<'delivered' | 'retry' | 'failed' | 'skipped'> {
  const loaded = await load(deps, job.deliveryId);
  if (!loaded || loaded.status !== 'pending' || !loaded.target.enabled) return 'skipped';
  const { target, event } = loaded;
  const attemptId = newId('webhookAttempt');
  const attemptedAt = new Date();
  const body = JSON.stringify(
    plainWebhookBody(event, await buildPlainPayload(deps.pool, event), {
      webhookTargetId: target.id,
      webhookTargetVersion: target.version,
      attemptId,
      attemptNumber: job.attempt,
      attemptTimestamp: attemptedAt,
    }),
  );
  const { url, authorization: auth } = deliveryEndpoint(deps.secretsKey, target);
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Content-Type': 'application/json',
    'User-Agent': deps.userAgent,
    'Plain-Workspace-Id': event.workspaceId,
    'Plain-Webhook-Target-Id': target.id,
    'Plain-Webhook-Target-Version': target.version,
    'Plain-Webhook-Delivery-Attempt-Id': attemptId,
    'Plain-Webhook-Delivery-Attempt-Number': String(job.attempt),
    'Plain-Webhook-Delivery-Attempt-Timestamp': attemptedAt.toISOString(),
    'Plain-Event-Type': event.type,
    'Plain-Event-Id': event.id,
    'Plain-Request-Signature': plainSignature(body, loaded.workspaceSecret),
    ...standardWebhookHeaders(event.id, attemptedAt, body, await signingSecrets(deps.pool, deps.secretsKey, target.id)),
    ...(auth ? { Authorization: auth } : {}),
  };
  const agents = agentsFor(deps.allowPrivate);
  const started = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const res = await axios.post(url, body, {
      headers,
      timeout: deps.timeoutMs,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: (x) => x,
      maxContentLength: 64 * 1024,
      httpAgent: agents.http,
      httpsAgent: agents.https,
    });
    statusCode = res.status;
    if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (err) {
    error = (err as { code?: string; message?: string }).code ?? (err as Error).message ?? String(err);
  }
  const durationMs = Math.round(performance.now() - started);
  const delivered = error === null;
  const gone = statusCode === 410;
  const nextDelay = delivered || gone ? null : delayBeforeAttempt(job.attempt + 1, deps.timeScale);
  const status = delivered ? 'delivered' : nextDelay === null ? 'failed' : 'pending';
  await withTransaction(deps.pool, async (tx) => {
    await recordAttempt(tx, job.deliveryId, event.workspaceId, { id: attemptId, number: job.attempt, attemptedAt, statusCode, durationMs, error }, {
      status,
      nextAttemptAt: nextDelay === null ? null : new Date(Date.now() + nextDelay),
    });
    if (gone) await disableWebhookTarget(tx, target.id, 'the receiver answered 410 Gone');
    if (nextDelay !== null) await enqueueDelivery(deps.boss, tx, { deliveryId: job.deliveryId, attempt: job.attempt + 1, targetId: target.id }, nextDelay);
  });
  return delivered ? 'delivered' : status === 'failed' ? 'failed' : 'retry';
}
