//! BatchJobs on PostgreSQL: written once in [`crate::shared::batch_jobs`] but for the SQL
//! below.

crate::shared::batch_jobs::batch_job_store!(super::PostgresStore, sqlx::Postgres);

impl BatchJobSql for sqlx::Postgres {
    const COLUMNS: &'static str = "b.id, b.site_id, b.scheduler_id, b.project, b.queue, b.optional_params, \
    b.num_nodes::int8 AS num_nodes, b.wall_time_min::int8 AS wall_time_min, b.job_mode, b.filter_tags, b.partitions, b.state, \
    b.status_info, b.start_time, b.end_time";
    const PATCH: &'static str = "UPDATE batch_jobs SET \
               scheduler_id = CASE WHEN p ? 'scheduler_id' THEN (p->>'scheduler_id')::bigint ELSE batch_jobs.scheduler_id END, \
               state = CASE WHEN p ? 'state' THEN p->>'state' ELSE batch_jobs.state END, \
               start_time = CASE WHEN p ? 'start_time' THEN (p->>'start_time')::timestamp ELSE batch_jobs.start_time END, \
               end_time = CASE WHEN p ? 'end_time' THEN (p->>'end_time')::timestamp ELSE batch_jobs.end_time END, \
               status_info = CASE WHEN p ? 'status_info' THEN p->'status_info' ELSE batch_jobs.status_info END \
             FROM jsonb_array_elements($1) AS p WHERE batch_jobs.id = (p->>'__id')::bigint";

    fn time_value(t: &chrono::DateTime<chrono::Utc>) -> Value {
        super::job_queries::pg_timestamp(t)
    }
}
