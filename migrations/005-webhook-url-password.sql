-- The password of a webhook URL (https://user:pass@host/...) is a credential: it moves out of
-- `url` into its own column, sealed with SECRETS_KEY (AAD: the target id) like every other
-- secret. Rows stored before this keep theirs in `url` until the service seals them at start.
ALTER TABLE webhook_targets ADD COLUMN url_password_encrypted text;
