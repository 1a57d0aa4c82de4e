-- The per-user event log (a transactional outbox): every committed change is appended
-- here in the same transaction, with a per-user sequence number that is gap-free and in
-- commit order (SQLite has a single writer). Websocket sessions replay from it.

CREATE TABLE user_event_seq (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL
);

CREATE TABLE event_log (
    user_id    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
) WITHOUT ROWID;
CREATE INDEX event_log_created_idx ON event_log (created_at);
