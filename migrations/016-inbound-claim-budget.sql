-- A claim takes up to max_rows due emails of a lane, and stops early once their raw payloads
-- reach max_bytes: a batch of many rows is cheap for ordinary mail (a few KB each) and still
-- bounded in memory when the small lane is full of emails near its 1 MiB limit. The cursor locks
-- each row as it is fetched, so rows past the budget are left unlocked for the next claim.
-- The walk is the one of migration 015 (due index order, no sort, no bitmap scan). The two-argument
-- function stays for processes of the previous version still running during an upgrade.
CREATE FUNCTION intake_claim_due_inbound(max_rows integer, max_bytes bigint, lane text) RETURNS SETOF text
LANGUAGE plpgsql VOLATILE ROWS 64
SET enable_sort = off
SET enable_bitmapscan = off
AS $$
DECLARE
  due CURSOR FOR
    SELECT id, raw_size FROM inbound_emails
     WHERE status = 'received' AND (CASE WHEN raw_size > 1048576 THEN 'large' ELSE 'small' END) = lane AND next_attempt_at <= now()
     ORDER BY next_attempt_at, id
     LIMIT max_rows
     FOR UPDATE SKIP LOCKED;
  claimed text;
  claimed_size integer;
  total bigint := 0;
BEGIN
  OPEN due;
  LOOP
    FETCH due INTO claimed, claimed_size;
    EXIT WHEN NOT FOUND;
    RETURN NEXT claimed;
    total := total + claimed_size;
    EXIT WHEN total >= max_bytes;
  END LOOP;
  CLOSE due;
END
$$;
