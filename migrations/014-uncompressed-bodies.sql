-- Stored uncompressed (out of line when large), for rows written from now on. pglz, the only
-- TOAST compression the embedded PostgreSQL has (no lz4), cost a third of receipt's database CPU
-- (the raw payload) and a tenth of processing's (an entry's text, HTML and reply text, its event):
-- 0.15 ms of 1.3 ms per email. Mail is mostly base64 attachments and text that is read far more
-- often than written, so the hot path keeps the CPU and the disk pays; slices of a raw payload
-- are read without decompressing it from the start.
ALTER TABLE inbound_emails ALTER COLUMN raw SET STORAGE EXTERNAL;
ALTER TABLE timeline_entries ALTER COLUMN text SET STORAGE EXTERNAL, ALTER COLUMN html SET STORAGE EXTERNAL, ALTER COLUMN reply_text SET STORAGE EXTERNAL;
ALTER TABLE events ALTER COLUMN payload SET STORAGE EXTERNAL;
