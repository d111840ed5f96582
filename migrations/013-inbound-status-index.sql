-- Every receipt inserts into each index of the ledger and every outcome (a new status) again:
-- (status, id) served only listings across workspaces, which (workspace_id, status, id) serves
-- now that they ask for one workspace or for none (IS NULL).
DROP INDEX inbound_emails_status;
