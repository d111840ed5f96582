import { newId } from './ids.ts';
import type { WriteContext } from './origin.ts';
import { prepared } from '../db/prepared.ts';

export const EVENT_TYPES = Object.freeze({
  customerCreated: 'customer.customer_created',
  customerUpdated: 'customer.customer_updated',
  threadCreated: 'thread.thread_created',
  emailReceived: 'thread.email_received',
  threadStatusTransitioned: 'thread.thread_status_transitioned',
  noteCreated: 'thread.note_created',
} as const);
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

const INSERT_EVENT = prepared('events.insert', 'INSERT INTO events (id, workspace_id, type, origin, payload) VALUES ($1, $2, $3, $4, $5)');

/**
 * Adds an event to the outbox in the caller's transaction. Imported history is silent: origin
 * `import` records nothing, so no webhook or auto-response can ever follow from it.
 */
export async function recordEvent(ctx: WriteContext, type: EventType, payload: Record<string, unknown>): Promise<void> {
  if (ctx.origin === 'import') return;
  await ctx.db.query(INSERT_EVENT, [
    newId('event'),
    ctx.workspaceId,
    type,
    ctx.origin,
    JSON.stringify(payload),
  ]);
}
