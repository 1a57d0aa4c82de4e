//! The change log on SQLite: written once in [`crate::shared::change_log`] but for the
//! SQL below.

crate::shared::change_log::change_log_store!(super::SqliteStore, sqlx::Sqlite);

impl ChangeLogSql for sqlx::Sqlite {
    const APPEND: &'static str = "INSERT INTO event_log (user_id, seq, created_at, payload) \
        SELECT $1, $2 + key, $3, value FROM json_each($4)";
    const PRUNE_BY_COUNT: &'static str = "DELETE FROM event_log WHERE seq <= \
        (SELECT s.seq FROM user_event_seq s WHERE s.user_id = event_log.user_id) - $1";
    const NEW_EPOCH: &'static str = "UPDATE log_epoch \
        SET epoch = lower(hex(randomblob(16))) WHERE id = 1 RETURNING epoch";
    type Payloads<'a> = String;

    fn payloads<'a>(payloads: &'a [&'a str]) -> String {
        serde_json::to_string(payloads).unwrap_or_default()
    }
}
