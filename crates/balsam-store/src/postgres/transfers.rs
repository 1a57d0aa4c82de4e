//! TransferItems on PostgreSQL: written once in [`crate::shared::transfers`] but for the
//! patch statement.

crate::shared::transfers::transfer_store!(super::PostgresStore, sqlx::Postgres);

impl TransferSql for sqlx::Postgres {
    const PATCH: &'static str = "UPDATE transfer_items SET \
        state = COALESCE(p->>'state', transfer_items.state), \
        task_id = COALESCE(p->>'task_id', transfer_items.task_id), \
        transfer_info = CASE WHEN p ? 'transfer_info' THEN p->'transfer_info' \
        ELSE transfer_items.transfer_info END \
        FROM jsonb_array_elements($1) AS p WHERE transfer_items.id = (p->>'id')::bigint";
}
