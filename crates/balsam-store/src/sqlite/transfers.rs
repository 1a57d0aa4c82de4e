//! TransferItems on SQLite: written once in [`crate::shared::transfers`] but for the
//! patch statement.

crate::shared::transfers::transfer_store!(super::SqliteStore, sqlx::Sqlite);

impl TransferSql for sqlx::Sqlite {
    const PATCH: &'static str = "UPDATE transfer_items SET \
        state = COALESCE(json_extract(p.value, '$.state'), transfer_items.state), \
        task_id = COALESCE(json_extract(p.value, '$.task_id'), transfer_items.task_id), \
        transfer_info = CASE WHEN json_type(p.value, '$.transfer_info') IS NULL \
        THEN transfer_items.transfer_info ELSE json(json_extract(p.value, '$.transfer_info')) END \
        FROM json_each($1) AS p WHERE transfer_items.id = json_extract(p.value, '$.id')";
}
