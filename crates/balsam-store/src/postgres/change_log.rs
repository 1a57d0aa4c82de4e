//! The change log on PostgreSQL: written once in [`crate::shared::change_log`] but for
//! the SQL below.

crate::shared::change_log::change_log_store!(super::PostgresStore, sqlx::Postgres);

impl ChangeLogSql for sqlx::Postgres {
    const APPEND: &'static str = "INSERT INTO event_log (user_id, seq, created_at, payload) \
        SELECT $1, $2 + ord - 1, $3, p FROM unnest($4::text[]) WITH ORDINALITY AS t(p, ord)";
    const PRUNE_BY_COUNT: &'static str = "DELETE FROM event_log e USING user_event_seq s \
        WHERE s.user_id = e.user_id AND e.seq <= s.seq - $1";
    const NEW_EPOCH: &'static str = "UPDATE log_epoch \
        SET epoch = replace(gen_random_uuid()::text, '-', '') WHERE id = 1 RETURNING epoch";
    type Payloads<'a> = &'a [&'a str];

    fn payloads<'a>(payloads: &'a [&'a str]) -> &'a [&'a str] {
        payloads
    }
}
