-- Stored text and HTML are capped per entry (the raw email stays whole in inbound_emails.raw):
-- when a value was cut, the UTF-8 size of the whole is kept here; NULL means stored whole.
ALTER TABLE timeline_entries ADD COLUMN text_full_size integer, ADD COLUMN html_full_size integer;
-- The thread API names each entry's inbound email, whose raw payload can be downloaded whole.
CREATE INDEX inbound_emails_timeline_entry ON inbound_emails (timeline_entry_id) WHERE timeline_entry_id IS NOT NULL;
