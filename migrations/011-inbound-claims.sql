-- Inbound emails are claimed straight from this table (FOR UPDATE SKIP LOCKED, several per
-- transaction), no longer through a pg-boss job per email. A `received` email is due at
-- next_attempt_at: at receipt, and after a failed attempt once its retry delay has passed.
-- Rows already received are due at once (the migration's time), so none waits on a job that is
-- no longer worked; jobs earlier versions queued only make their email due (src/jobs/inbound-worker.ts).
ALTER TABLE inbound_emails ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();
-- Claims walk the due rows in order.
CREATE INDEX inbound_emails_due ON inbound_emails (next_attempt_at, id) WHERE status = 'received';
