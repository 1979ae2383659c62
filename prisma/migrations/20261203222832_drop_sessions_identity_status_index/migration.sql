-- Every statement that reads sessions by identity and status names one identity (or a short list):
-- revokeIdentitySessions, "sign out other sessions", the signers of a challenge, Identity.sessions
-- with a status filter. sessions_identity_id_created_at_id_idx finds an identity's sessions by the
-- same leading column (EXPLAIN: a bitmap scan on it, the status checked on those few rows), so this
-- index only cost every session write one more index entry (an import of thousands, a login).
DROP INDEX "sessions_identity_id_status_idx";
