-- Imports: connections to a provider account, runs, stream cursors, the create-only ledger and
-- record errors. Imported rows themselves live in the domain tables with origin 'import'.

CREATE TABLE import_connections (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  provider text NOT NULL,
  -- The provider account (a Zendesk subdomain): the ledger's namespace within the workspace.
  account text NOT NULL,
  -- AES-256-GCM with SECRETS_KEY, the connection id as associated data.
  credentials_encrypted text NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}',
  schedule_seconds integer NOT NULL DEFAULT 300 CHECK (schedule_seconds >= 60),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reauth', 'disconnected')),
  last_error text,
  -- Set when the first full run succeeds; scheduled incremental runs start only after it.
  full_run_completed_at timestamptz,
  next_run_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_connections_workspace ON import_connections (workspace_id, id);
CREATE INDEX import_connections_due ON import_connections (next_run_at) WHERE status = 'active';
-- One live connection per provider account and workspace: a second would import everything twice.
CREATE UNIQUE INDEX import_connections_account ON import_connections (workspace_id, provider, account) WHERE status <> 'disconnected';

CREATE TABLE import_runs (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  connection_id text NOT NULL REFERENCES import_connections (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('full', 'incremental')),
  -- waiting: rescheduled after a rate limit or a transient failure (retry_at says when).
  status text NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'needs_reauth', 'cancelled')),
  -- {stream: {created, linked, skipped, failed}}
  counts jsonb NOT NULL DEFAULT '{}',
  -- {stream: {pages, done}}
  progress jsonb NOT NULL DEFAULT '{}',
  error text,
  retry_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  -- The worker executing the run holds a lease it renews; an expired lease means the worker died.
  lease_owner text,
  lease_until timestamptz,
  -- When a job was last sent for it: the sweep re-sends only for runs nobody has looked at lately.
  enqueued_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX import_runs_connection ON import_runs (connection_id, id);
-- At most one active run per connection.
CREATE UNIQUE INDEX import_runs_one_active ON import_runs (connection_id) WHERE status IN ('queued', 'running', 'waiting');

-- Where each stream of a connection stands: committed with the page it follows.
CREATE TABLE import_cursors (
  connection_id text NOT NULL REFERENCES import_connections (id) ON DELETE CASCADE,
  stream text NOT NULL,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  cursor jsonb,
  run_id text REFERENCES import_runs (id) ON DELETE SET NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, stream)
);

-- Create-only: each source record maps to the one entity it created or was linked to, forever.
CREATE TABLE import_ledger (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  provider text NOT NULL,
  account text NOT NULL,
  source_type text NOT NULL,
  source_id text NOT NULL,
  -- customer | agent | tenant | label | thread | thread_label | timeline_entry | skipped
  entity_type text NOT NULL,
  -- Null for records that create no row (agents, who are authors, not customers; deleted tickets).
  entity_id text,
  disposition text NOT NULL CHECK (disposition IN ('created', 'linked', 'skipped')),
  -- What later records need without another call (an agent's name and email).
  details jsonb,
  -- Which connection and run wrote it, for the record: no foreign keys, which would cost a check
  -- per row of every page and must not take the ledger with them.
  connection_id text,
  run_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, provider, account, source_type, source_id)
);

CREATE TABLE import_record_errors (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  run_id text NOT NULL REFERENCES import_runs (id) ON DELETE CASCADE,
  stream text NOT NULL,
  source_type text NOT NULL,
  source_id text NOT NULL,
  reason text NOT NULL,
  excerpt text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_record_errors_run ON import_record_errors (run_id, id);

-- A refused attachment that was never downloaded (its type or declared size ruled it out) has no hash.
ALTER TABLE attachments ALTER COLUMN sha256 DROP NOT NULL;
