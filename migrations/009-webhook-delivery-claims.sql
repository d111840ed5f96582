-- Webhook deliveries are claimed straight from this table (FOR UPDATE SKIP LOCKED), no longer
-- through a pg-boss job per attempt: a claim holds the row for a lease; a worker that dies
-- before recording its attempt lets the lease run out and another worker sends it again.
ALTER TABLE webhook_deliveries ADD COLUMN lease_until timestamptz;

-- A pending delivery is due at next_attempt_at; first attempts written before this had none.
UPDATE webhook_deliveries SET next_attempt_at = coalesce(next_attempt_at, created_at) WHERE status = 'pending';
-- Claims walk each target's due rows in order.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (target_id, next_attempt_at, id) WHERE status = 'pending';
