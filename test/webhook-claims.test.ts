import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/db/pool.ts';
import { newId } from '../src/domain/ids.ts';
import { claimDueDeliveries } from '../src/events/claim-deliveries.ts';
import { createWebhookTarget } from '../src/events/webhook-targets.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { explaining, scansOf } from './support/explain.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

const EVENTS = 2000;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await db?.close();
});

describe('claiming webhook deliveries', () => {
  it('looks each claimed delivery’s event up by its primary key, even while a young events table has no statistics', async () => {
    // A workspace whose thousands of events arrived since the database was made (cloned from the
    // template: never analyzed), each with a delivery due. With the workspace as a join key the
    // planner walked the workspace's whole events_workspace range for every claimed row: 45 ms a
    // claim in the webhooks bench, the delivery slots idle half the time waiting for one.
    const { workspace } = await makeWorkspace(db.pool, 'Claims', 'help@claims-acme.com');
    const targetIds: string[] = [];
    await withTransaction(db.pool, async (tx) => {
      for (const path of ['/a', '/b', '/c']) {
        const { target } = await createWebhookTarget(tx, TEST_SECRETS_KEY, workspace.id, { url: `http://127.0.0.1:9${path}`, eventTypes: ['thread.thread_created'], enabled: true, version: '2024-09-18' });
        targetIds.push(target.id);
      }
    });
    const eventIds = Array.from({ length: EVENTS }, () => newId('event'));
    await db.pool.query(
      `INSERT INTO events (id, workspace_id, type, origin, payload, relayed_at) SELECT id, $2, 'thread.thread_created', 'email', '{}', now() FROM unnest($1::text[]) AS e(id)`,
      [eventIds, workspace.id],
    );
    await db.pool.query(
      `INSERT INTO webhook_deliveries (id, workspace_id, target_id, event_id, status, next_attempt_at)
         SELECT 'wd_' || e.id || t.id, $2, t.id, e.id, 'pending', now() FROM unnest($1::text[]) AS e(id) CROSS JOIN unnest($3::text[]) AS t(id)`,
      [eventIds, workspace.id, targetIds],
    );

    // The claim's own statement and values, explained on the way through.
    const { db: explained, plans } = explaining(db.pool);
    const claimed = await claimDueDeliveries(explained, { limit: 48, perTarget: 16, leaseSeconds: 60, inFlight: new Map() });

    expect(claimed).toHaveLength(48);
    expect(new Set(claimed.map((d) => d.event.workspaceId))).toEqual(new Set([workspace.id]));
    const eventScans = scansOf(plans, 'events');
    expect(eventScans.length).toBeGreaterThan(0);
    for (const scan of eventScans) expect(scan).toEqual({ node: 'Index Scan', index: 'events_pkey' });
  });
});
