-- Operator console sessions: a workspace API key is exchanged once for a session cookie. Only
-- the token's hash is stored (a database dump signs no one in); sign-out deletes the row.
CREATE TABLE console_sessions (
  token_sha256 text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  -- Compared (in constant time) with the token every state-changing request carries.
  csrf_secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_sessions_workspace ON console_sessions (workspace_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
