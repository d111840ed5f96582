-- Claims walk the due index in its order, whatever the planner believes of the ledger. Due mail
-- is rare in the statistics (most rows are processed long since, and a young ledger has none: the
-- default guess is 1 row in 200), so the planner read every due email, sorted them and kept 16:
-- a claim cost grew with the backlog, and catching up after an outage went quadratic. Sorting and
-- bitmap scans are off for this one query only (a function's SET applies while it runs).
-- Each processing lane (large: a raw payload over 1 MiB, LARGE_EMAIL_BYTES in src/inbound/ledger.ts)
-- is a range of its own in the due index, so a lane with nothing due reads nothing of the other
-- (a CASE, which the planner does not rewrite: `raw_size > 1048576` compared with a boolean was
-- folded into a plain size test that no longer matched the index).
DROP INDEX inbound_emails_due;
CREATE INDEX inbound_emails_due ON inbound_emails ((CASE WHEN raw_size > 1048576 THEN 'large' ELSE 'small' END), next_attempt_at, id) WHERE status = 'received';

CREATE FUNCTION intake_claim_due_inbound(max_rows integer, lane text) RETURNS SETOF text
LANGUAGE sql VOLATILE ROWS 16
SET enable_sort = off
SET enable_bitmapscan = off
AS $$
  SELECT id FROM inbound_emails
   WHERE status = 'received' AND (CASE WHEN raw_size > 1048576 THEN 'large' ELSE 'small' END) = lane AND next_attempt_at <= now()
   ORDER BY next_attempt_at, id
   LIMIT max_rows
   FOR UPDATE SKIP LOCKED
$$;
