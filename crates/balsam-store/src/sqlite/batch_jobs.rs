//! BatchJobs on SQLite: written once in [`crate::shared::batch_jobs`] but for the SQL
//! below.

crate::shared::batch_jobs::batch_job_store!(super::SqliteStore, sqlx::Sqlite);

impl BatchJobSql for sqlx::Sqlite {
    const COLUMNS: &'static str =
        "b.id, b.site_id, b.scheduler_id, b.project, b.queue, b.optional_params, \
    b.num_nodes, b.wall_time_min, b.job_mode, b.filter_tags, b.partitions, b.state, \
    b.status_info, b.start_time, b.end_time";
    const PATCH: &'static str = "UPDATE batch_jobs SET \
        scheduler_id = CASE WHEN json_type(p.value, '$.scheduler_id') IS NULL THEN batch_jobs.scheduler_id \
            ELSE json_extract(p.value, '$.scheduler_id') END, \
        state = CASE WHEN json_type(p.value, '$.state') IS NULL THEN batch_jobs.state \
            ELSE json_extract(p.value, '$.state') END, \
        start_time = CASE WHEN json_type(p.value, '$.start_time') IS NULL THEN batch_jobs.start_time \
            ELSE json_extract(p.value, '$.start_time') END, \
        end_time = CASE WHEN json_type(p.value, '$.end_time') IS NULL THEN batch_jobs.end_time \
            ELSE json_extract(p.value, '$.end_time') END, \
        status_info = CASE WHEN json_type(p.value, '$.status_info') IS NULL THEN batch_jobs.status_info \
            ELSE json(json_extract(p.value, '$.status_info')) END \
        FROM json_each($1) AS p WHERE batch_jobs.id = json_extract(p.value, '$.__id')";

    fn time_value(t: &chrono::DateTime<chrono::Utc>) -> Value {
        super::to_micros(t).into()
    }
}
