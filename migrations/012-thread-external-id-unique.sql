-- A thread's externalId is the API caller's handle for it (Plain: unique per workspace), so a
-- second thread with the same one is refused (thread_already_exists_with_external_id). Only the
-- API sets it; imports and email leave it null.
DROP INDEX threads_external_id;
CREATE UNIQUE INDEX threads_external_id ON threads (workspace_id, external_id) WHERE external_id IS NOT NULL;
