-- The per-user event log (a transactional outbox): every committed change is appended
-- here in the same transaction, with a per-user sequence number that is gap-free and in
-- commit order: the counter row of `user_event_seq` is bumped last in each transaction
-- and stays locked until commit, so a user's writers take their numbers in commit order.

CREATE TABLE user_event_seq (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL
);

CREATE TABLE event_log (
    user_id    BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    payload    TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX event_log_created_idx ON event_log (created_at);
