-- Workspaces and the core support model. Every row names its workspace; every row written by the
-- domain names its origin (email | api | import) so imported history is told apart from live data.

CREATE TABLE workspaces (
  id text PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  support_address text,
  alternate_addresses text[] NOT NULL DEFAULT '{}' CHECK (cardinality(alternate_addresses) <= 10),
  inbound_token text NOT NULL UNIQUE,
  webhook_secret_encrypted text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  key_sha256 text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

CREATE TABLE companies (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  domain text NOT NULL,
  name text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('email', 'api', 'import')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, domain)
);

CREATE TABLE customers (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  -- Stored lower-cased; absent only for an imported person the source knows no email for.
  email text CHECK (email = lower(email)),
  full_name text NOT NULL,
  short_name text,
  external_id text,
  company_id text REFERENCES companies (id),
  origin text NOT NULL CHECK (origin IN ('email', 'api', 'import')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (email IS NOT NULL OR origin = 'import')
);
CREATE UNIQUE INDEX customers_email ON customers (workspace_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX customers_external_id ON customers (workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX customers_company ON customers (company_id) WHERE company_id IS NOT NULL;

CREATE TABLE tenants (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  external_id text NOT NULL,
  name text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('email', 'api', 'import')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, external_id)
);

CREATE TABLE tenant_customers (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  origin text NOT NULL CHECK (origin IN ('email', 'api', 'import')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, customer_id)
);
CREATE INDEX tenant_customers_customer ON tenant_customers (customer_id);

CREATE TABLE labels (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  origin text NOT NULL CHECK (origin IN ('email', 'api', 'import')),
  created_at timestamptz NOT NULL DEFAULT now()
);
-- "Billing" and "billing" are one label.
CREATE UNIQUE INDEX labels_name ON labels (workspace_id, lower(name));

CREATE TABLE threads (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  customer_id text NOT NULL REFERENCES customers (id),
  title text NOT NULL,
  status text NOT NULL CHECK (status IN ('TODO', 'SNOOZED', 'DONE')),
  channel text NOT NULL CHECK (channel IN ('EMAIL', 'API', 'CHAT', 'SLACK', 'MS_TEAMS', 'DISCORD')),
  external_id text,
  origin text NOT NULL CHECK (origin IN ('email', 'api', 'import')),
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX threads_customer ON threads (workspace_id, customer_id, id);
CREATE INDEX threads_status ON threads (workspace_id, status, id);
CREATE INDEX threads_external_id ON threads (workspace_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE thread_labels (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  thread_id text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
  label_id text NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
  origin text NOT NULL CHECK (origin IN ('email', 'api', 'import')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (thread_id, label_id)
);

CREATE TABLE timeline_entries (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  thread_id text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('inbound_email', 'outbound_email', 'note', 'inbound_message', 'outbound_message')),
  author_type text NOT NULL CHECK (author_type IN ('customer', 'user', 'system')),
  author_customer_id text REFERENCES customers (id),
  author_name text,
  author_email text,
  text text,
  html text,
  message_id text,
  in_reply_to text,
  "references" text[] NOT NULL DEFAULT '{}',
  -- The support address the customer wrote to, so replies go out from it.
  support_address text,
  origin text NOT NULL CHECK (origin IN ('email', 'api', 'import')),
  -- When it happened: an import keeps the source's time.
  created_at timestamptz NOT NULL DEFAULT now(),
  -- When we wrote it.
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CHECK (author_type <> 'customer' OR author_customer_id IS NOT NULL)
);
CREATE INDEX timeline_entries_thread ON timeline_entries (thread_id, created_at, id);
CREATE INDEX timeline_entries_message_id ON timeline_entries (workspace_id, message_id) WHERE message_id IS NOT NULL;

-- Accepted bytes, stored once per content hash within a workspace.
CREATE TABLE attachment_blobs (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size integer NOT NULL CHECK (size >= 0),
  content bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, sha256)
);

CREATE TABLE attachments (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  timeline_entry_id text NOT NULL REFERENCES timeline_entries (id) ON DELETE CASCADE,
  position integer NOT NULL CHECK (position >= 0),
  file_name text NOT NULL,
  content_type text NOT NULL,
  size integer NOT NULL CHECK (size >= 0),
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  content_id text,
  inline boolean NOT NULL DEFAULT false,
  status text NOT NULL CHECK (status IN ('accepted', 'rejected')),
  code text,
  origin text NOT NULL CHECK (origin IN ('email', 'api', 'import')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (timeline_entry_id, position),
  -- A refusal always says why; an accepted file has no code.
  CHECK ((status = 'rejected') = (code IS NOT NULL))
);
