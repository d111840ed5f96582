-- Events out: webhook targets and every delivery attempt; auto-responses and what they sent.

-- Relay position: events are handed to delivery once, in id order.
ALTER TABLE events ADD COLUMN relayed_at timestamptz;
CREATE INDEX events_unrelayed ON events (id) WHERE relayed_at IS NULL;

CREATE TABLE webhook_targets (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  url text NOT NULL,
  event_types text[] NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  version text NOT NULL DEFAULT '2024-09-18',
  -- Standard Webhooks secret (whsec_...), encrypted with SECRETS_KEY; rotation keeps the previous one for a while.
  signing_secret_encrypted text NOT NULL,
  previous_signing_secret_encrypted text,
  previous_secret_expires_at timestamptz,
  disabled_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_targets_workspace ON webhook_targets (workspace_id);

-- One row per (event, target): the attempt chain's state.
CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  target_id text NOT NULL REFERENCES webhook_targets (id) ON DELETE CASCADE,
  event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (target_id, event_id)
);
CREATE INDEX webhook_deliveries_target ON webhook_deliveries (target_id, id);

CREATE TABLE webhook_delivery_attempts (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  delivery_id text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  number integer NOT NULL CHECK (number >= 1),
  attempted_at timestamptz NOT NULL,
  status_code integer,
  duration_ms integer NOT NULL,
  error text,
  UNIQUE (delivery_id, number)
);

CREATE TABLE auto_responses (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  message_text text NOT NULL,
  message_html text,
  enabled boolean NOT NULL DEFAULT true,
  channels text[] NOT NULL DEFAULT '{EMAIL}',
  "order" integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auto_responses_workspace ON auto_responses (workspace_id, "order", id);

-- What was sent, for the once-per-thread and once-per-customer-per-window rules.
CREATE TABLE auto_response_sends (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  thread_id text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
  customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  timeline_entry_id text REFERENCES timeline_entries (id),
  message_id text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (thread_id)
);
CREATE INDEX auto_response_sends_customer ON auto_response_sends (workspace_id, customer_id, sent_at);
