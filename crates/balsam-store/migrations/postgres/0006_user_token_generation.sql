-- Revocable access tokens: every token carries the generation of its user at issue time,
-- and a request is refused when the user's generation has moved on since (logout, a
-- password change) or the user is gone. One integer per user, read once a second at most
-- per replica and user (balsam-server caches it), so revocation works across replicas.

ALTER TABLE users ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
