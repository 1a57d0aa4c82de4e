-- The event log's epoch: an identity made once per database, so that a websocket client's
-- `last_seq` from another database (a reset server, a fresh install at the same address)
-- is recognised however small it is, and answered with a resync instead of a replay of
-- the wrong range. `balsam-server events new-epoch` replaces it (after restoring a backup,
-- whose sequence numbers clients may have seen past).

CREATE TABLE log_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL
);
INSERT INTO log_epoch (id, epoch) VALUES (1, replace(gen_random_uuid()::text, '-', ''));
