-- Schema version 2: sessions are audited objects. Every session has a
-- "create" audit record with the hash of its row and ends with a "delete"
-- record, and Verify compares the sessions table with the log like every
-- other audited table. Sessions of version 1 have no audit record, so they
-- end here, unrecorded: everyone logs in again once.
DELETE FROM sessions;
