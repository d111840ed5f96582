-- The inbound ledger: every accepted payload, byte for byte, before anything else happens to it.
CREATE TABLE inbound_emails (
  id text PRIMARY KEY,
  -- Null until routed, and for mail no workspace's address or domain matches.
  workspace_id text REFERENCES workspaces (id) ON DELETE CASCADE,
  -- A copy made for a second workspace the same email was addressed to: processed for it alone.
  target_workspace_id text REFERENCES workspaces (id) ON DELETE CASCADE,
  forked_from text REFERENCES inbound_emails (id),
  source text NOT NULL CHECK (source IN ('postmark', 'mime')),
  -- Postmark's MessageID, or the sha256 of a raw MIME body: the same delivery twice is one row.
  dedupe_key text NOT NULL UNIQUE,
  message_id text,
  raw bytea NOT NULL,
  raw_size integer NOT NULL,
  status text NOT NULL CHECK (status IN ('received', 'processed', 'duplicate', 'unroutable', 'rejected', 'failed')),
  error_code text,
  error_message text,
  attempts integer NOT NULL DEFAULT 0,
  classification jsonb,
  duplicate_of text REFERENCES inbound_emails (id),
  customer_id text REFERENCES customers (id),
  thread_id text REFERENCES threads (id),
  timeline_entry_id text REFERENCES timeline_entries (id),
  -- For bounces: the outbound entry whose Message-ID the bounce carries.
  bounce_of_entry_id text REFERENCES timeline_entries (id),
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX inbound_emails_workspace_status ON inbound_emails (workspace_id, status, id);
CREATE INDEX inbound_emails_status ON inbound_emails (status, id);
CREATE INDEX inbound_emails_message_id ON inbound_emails (workspace_id, message_id) WHERE message_id IS NOT NULL;

-- The customer's new words without quoted history, beside the full text.
ALTER TABLE timeline_entries ADD COLUMN reply_text text;

-- Addresses outside the support domain whose forwards are treated as agent forwards.
ALTER TABLE workspaces ADD COLUMN forwarder_addresses text[] NOT NULL DEFAULT '{}';

-- The outbox: domain events of origin email or api, written in the transaction of the change
-- they describe. Imports write none.
CREATE TABLE events (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  type text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('email', 'api')),
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_workspace ON events (workspace_id, id);
