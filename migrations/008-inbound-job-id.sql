-- The id of the processing job last sent for an email, so the sweep asks pg-boss about that job
-- through its public API instead of reading pg-boss's own tables (which an upgrade may change).
ALTER TABLE inbound_emails ADD COLUMN job_id text;
