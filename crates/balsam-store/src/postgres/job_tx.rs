//! The lifecycle primitives ([`JobTx`]) on PostgreSQL.
//!
//! Repetition note: this file and `sqlite/job_tx.rs` share each method's skeleton (guard,
//! bind, map the rows) on purpose; every statement's SQL and bound types differ. What is
//! the same SQL on both backends is written once in `shared/job_tx.rs`.

use super::job_queries::*;
use crate::lifecycle::{self, JobTx, JobWrite, NewJob, NewLogEvent, NewTransfer};
use crate::shared::aggregates::Rollup;
use crate::shared::transfers::{TransferRow, TRANSFER_RETURNING};
use crate::StoreError;
use balsam_types::{Id, Job, LogEvent, Session, TransferItem, UserId};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::PgConnection;

crate::shared::job_tx::id_list_tx!(sqlx::Postgres, sqlx::PgConnection);

#[async_trait::async_trait]
impl JobTx for PgConnection {
    async fn write_jobs(
        &mut self,
        writes: &[JobWrite],
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Id> = writes.iter().map(|w| w.id).collect();
        let rows: Vec<JobRow> = if let Some(update) = TypedUpdate::of(writes) {
            let sql = update.sql();
            update
                .bind(sqlx::query_as(&sql), &ids, now.naive_utc())
                .fetch_all(&mut *self)
                .await?
        } else {
            let sets: Vec<String> = lifecycle::PATCH_COLUMNS
                .iter()
                .map(|(c, k)| set_expression(c, *k))
                .collect();
            let sql = format!(
                "UPDATE jobs SET {}, \
                 session_id = CASE WHEN (p->>'__release')::boolean THEN NULL ELSE jobs.session_id END, \
                 last_update = $2 \
                 FROM jsonb_array_elements($1) AS p WHERE jobs.id = (p->>'__id')::bigint \
                 RETURNING {JOB_COLUMNS}",
                sets.join(", ")
            );
            sqlx::query_as(&sql)
                .bind(Json(lifecycle::writes_document(writes)))
                .bind(now.naive_utc())
                .fetch_all(&mut *self)
                .await?
        };
        Ok(crate::shared::jobs::in_order_of(
            &ids,
            rows.into_iter().map(Job::from).collect(),
        ))
    }

    async fn shift_tag_counts(&mut self, ids: &[Id], sign: i64) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        // In the writer's shard, upserted in key order: concurrent writers cannot deadlock.
        sqlx::query(
            "INSERT INTO job_tag_counts AS c (owner_id, key, value, shard, count) \
             SELECT j.owner_id, t.key, t.value, pg_backend_pid() % 16, $2 * count(*) \
             FROM jobs j CROSS JOIN LATERAL jsonb_each_text(j.tags) t \
             WHERE j.id = ANY($1) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 \
             ON CONFLICT (owner_id, key, value, shard) DO UPDATE SET count = c.count + EXCLUDED.count",
        )
        .bind(ids)
        .bind(sign)
        .execute(&mut *self)
        .await?;
        if sign < 0 {
            // The pairs these jobs leave may now be empty (migration 0012).
            sqlx::query(
                "SELECT job_tag_counts_compact(array_agg(owner_id), array_agg(key), array_agg(value)) \
                 FROM (SELECT DISTINCT j.owner_id, t.key, t.value \
                 FROM jobs j CROSS JOIN LATERAL jsonb_each_text(j.tags) t WHERE j.id = ANY($1)) p",
            )
            .bind(ids)
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }

    async fn insert_log_events(
        &mut self,
        owner: UserId,
        events: &[NewLogEvent],
    ) -> Result<Vec<LogEvent>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // Typed arrays, not one JSON document: PostgreSQL decodes binary arrays instead of
        // parsing and walking a 1 000-object jsonb (docs/store-performance.md, cost table).
        // Only the id and the stored timestamp come back; the rest is what was sent.
        let n = events.len();
        let (mut job_ids, mut times, mut froms, mut tos, mut data) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for e in events {
            job_ids.push(e.job_id);
            times.push(e.timestamp.naive_utc());
            froms.push(e.from_state.as_str());
            tos.push(e.to_state.as_str());
            data.push(Json(&e.data));
        }
        let rows: Vec<(Id, Id, NaiveDateTime)> = sqlx::query_as(
            "INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state, data) \
             SELECT x.j, $1, x.t, x.f, x.s, x.d \
             FROM unnest($2::int8[], $3::timestamp[], $4::text[], $5::text[], $6::jsonb[]) \
                AS x(j, t, f, s, d) \
             RETURNING id, job_id, timestamp",
        )
        .bind(owner)
        .bind(&job_ids)
        .bind(&times)
        .bind(&froms)
        .bind(&tos)
        .bind(&data)
        .fetch_all(&mut *self)
        .await?;
        super::aggregates::roll_up(self, owner, &Rollup::of(events)).await?;
        Ok(lifecycle::logged_events(events, rows, |t| t.and_utc()))
    }

    async fn releasable_children(
        &mut self,
        owner: UserId,
        parents: &[Id],
    ) -> Result<Vec<Id>, StoreError> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        // Lock the waiting children first (in id order), then look at their parents in a
        // new statement, hence a new snapshot. Two transactions finishing the two parents
        // of one child at once would otherwise each see the other's parent unfinished and
        // neither release it; with the lock, the second waits for the first's commit and
        // then sees both parents finished.
        let waiting: Vec<Id> = sqlx::query_scalar(
            "SELECT c.id FROM jobs c WHERE c.owner_id = $1 AND c.state = 'AWAITING_PARENTS' \
             AND c.id IN (SELECT job_id FROM job_parents WHERE parent_id = ANY($2)) \
             ORDER BY c.id FOR UPDATE",
        )
        .bind(owner)
        .bind(parents)
        .fetch_all(&mut *self)
        .await?;
        if waiting.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_scalar(
            "SELECT c.id FROM jobs c WHERE c.id = ANY($1) AND c.state = 'AWAITING_PARENTS' \
             AND NOT EXISTS (SELECT 1 FROM job_parents jp LEFT JOIN jobs p ON p.id = jp.parent_id \
                             WHERE jp.job_id = c.id AND (p.id IS NULL OR p.state <> 'JOB_FINISHED')) \
             ORDER BY c.id",
        )
        .bind(&waiting)
        .fetch_all(&mut *self)
        .await?)
    }

    async fn allocate_job_ids(&mut self, n: usize) -> Result<Vec<Id>, StoreError> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        Ok(sqlx::query_scalar(
            "SELECT nextval('jobs_id_seq') AS id FROM generate_series(1, $1) ORDER BY 1",
        )
        .bind(n)
        .fetch_all(&mut *self)
        .await?)
    }

    async fn insert_jobs(
        &mut self,
        owner: UserId,
        jobs: &[NewJob<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        // One typed array per column (binary-decoded, no 1 000-object jsonb to parse and
        // walk) and nothing read back: every column of a new job is known here.
        let n = jobs.len();
        let mut c = InsertColumns::with_capacity(n);
        for j in jobs {
            let s = j.spec;
            c.id.push(j.id);
            c.site_id.push(j.site_id);
            c.app_id.push(s.app_id);
            c.workdir.push(s.workdir.as_str());
            c.tags.push(Json(&s.tags));
            c.serialized_parameters
                .push(s.serialized_parameters.as_str());
            c.state.push(j.state.as_str());
            c.data.push(Json(&s.data));
            c.return_code.push(s.return_code);
            c.parent_ids.push(Json(&s.parent_ids));
            c.num_nodes.push(s.num_nodes);
            c.ranks_per_node.push(s.ranks_per_node);
            c.threads_per_rank.push(s.threads_per_rank);
            c.threads_per_core.push(s.threads_per_core);
            c.launch_params.push(Json(&s.launch_params));
            c.gpus_per_rank.push(s.gpus_per_rank);
            c.node_packing_count.push(s.node_packing_count);
            c.wall_time_min.push(s.wall_time_min);
        }
        sqlx::query(
            "INSERT INTO jobs (id, owner_id, site_id, app_id, workdir, tags, serialized_parameters, \
                state, last_update, data, return_code, parent_ids, num_nodes, ranks_per_node, \
                threads_per_rank, threads_per_core, launch_params, gpus_per_rank, \
                node_packing_count, wall_time_min) \
             SELECT id, $1, site_id, app_id, workdir, tags, sp, state, $2, data, rc, pids, nn, rpn, \
                tpr, tpc, lp, gpr, npc, wtm \
             FROM unnest($3::int8[], $4::int8[], $5::int8[], $6::text[], $7::jsonb[], $8::text[], \
                $9::text[], $10::jsonb[], $11::int8[], $12::jsonb[], $13::int8[], $14::int8[], \
                $15::int8[], $16::int8[], $17::jsonb[], $18::float8[], $19::int8[], $20::int8[]) \
                AS x(id, site_id, app_id, workdir, tags, sp, state, data, rc, pids, nn, rpn, tpr, \
                     tpc, lp, gpr, npc, wtm)",
        )
        .bind(owner)
        .bind(now.naive_utc())
        .bind(&c.id)
        .bind(&c.site_id)
        .bind(&c.app_id)
        .bind(&c.workdir)
        .bind(&c.tags)
        .bind(&c.serialized_parameters)
        .bind(&c.state)
        .bind(&c.data)
        .bind(&c.return_code)
        .bind(&c.parent_ids)
        .bind(&c.num_nodes)
        .bind(&c.ranks_per_node)
        .bind(&c.threads_per_rank)
        .bind(&c.threads_per_core)
        .bind(&c.launch_params)
        .bind(&c.gpus_per_rank)
        .bind(&c.node_packing_count)
        .bind(&c.wall_time_min)
        .execute(&mut *self)
        .await?;
        // The per-tag counts (migration 0010): the pairs counted here, one small upsert.
        let (keys, values, counts) =
            crate::shared::counts::tag_pairs(jobs.iter().map(|j| &j.spec.tags));
        if !keys.is_empty() {
            sqlx::query(
                "INSERT INTO job_tag_counts AS c (owner_id, key, value, shard, count) \
                 SELECT $1, k, v, pg_backend_pid() % 16, n \
                 FROM unnest($2::text[], $3::text[], $4::int8[]) AS x(k, v, n) \
                 ON CONFLICT (owner_id, key, value, shard) DO UPDATE \
                    SET count = c.count + EXCLUDED.count",
            )
            .bind(owner)
            .bind(&keys)
            .bind(&values)
            .bind(&counts)
            .execute(&mut *self)
            .await?;
        }
        Ok(jobs.iter().map(|j| lifecycle::new_job(j, now)).collect())
    }

    async fn insert_job_parents(&mut self, pairs: &[(Id, Id)]) -> Result<(), StoreError> {
        if pairs.is_empty() {
            return Ok(());
        }
        let (children, parents): (Vec<Id>, Vec<Id>) = pairs.iter().copied().unzip();
        sqlx::query("INSERT INTO job_parents (job_id, parent_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])")
            .bind(children)
            .bind(parents)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn insert_transfers(
        &mut self,
        items: &[NewTransfer],
    ) -> Result<Vec<TransferItem>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: Vec<TransferRow> = sqlx::query_as(&format!(
            "INSERT INTO transfer_items (job_id, direction, local_path, remote_path, recursive, \
                location_alias, state) \
             SELECT job_id, direction, local_path, remote_path, recursive, location_alias, state \
             FROM jsonb_to_recordset($1) AS x(job_id bigint, direction text, local_path text, \
                remote_path text, recursive boolean, location_alias text, state text) \
             RETURNING {TRANSFER_RETURNING}"
        ))
        .bind(Json(lifecycle::transfers_document(items)))
        .fetch_all(&mut *self)
        .await?;
        rows.sort_by_key(|r| r.id);
        Ok(rows.into_iter().map(TransferItem::from).collect())
    }

    async fn fetch_sessions(&mut self, ids: &[Id]) -> Result<Vec<Session>, StoreError> {
        super::sessions::fetch_sessions(self, ids).await
    }
}

/// `insert_jobs`' bound arrays, one per column.
struct InsertColumns<'a> {
    id: Vec<Id>,
    site_id: Vec<Id>,
    app_id: Vec<Id>,
    workdir: Vec<&'a str>,
    tags: Vec<Json<&'a Map<String, Value>>>,
    serialized_parameters: Vec<&'a str>,
    state: Vec<&'static str>,
    data: Vec<Json<&'a Map<String, Value>>>,
    return_code: Vec<Option<i64>>,
    parent_ids: Vec<Json<&'a Vec<Id>>>,
    num_nodes: Vec<i64>,
    ranks_per_node: Vec<i64>,
    threads_per_rank: Vec<i64>,
    threads_per_core: Vec<i64>,
    launch_params: Vec<Json<&'a Map<String, Value>>>,
    gpus_per_rank: Vec<f64>,
    node_packing_count: Vec<i64>,
    wall_time_min: Vec<i64>,
}

impl InsertColumns<'_> {
    fn with_capacity(n: usize) -> Self {
        Self {
            id: Vec::with_capacity(n),
            site_id: Vec::with_capacity(n),
            app_id: Vec::with_capacity(n),
            workdir: Vec::with_capacity(n),
            tags: Vec::with_capacity(n),
            serialized_parameters: Vec::with_capacity(n),
            state: Vec::with_capacity(n),
            data: Vec::with_capacity(n),
            return_code: Vec::with_capacity(n),
            parent_ids: Vec::with_capacity(n),
            num_nodes: Vec::with_capacity(n),
            ranks_per_node: Vec::with_capacity(n),
            threads_per_rank: Vec::with_capacity(n),
            threads_per_core: Vec::with_capacity(n),
            launch_params: Vec::with_capacity(n),
            gpus_per_rank: Vec::with_capacity(n),
            node_packing_count: Vec::with_capacity(n),
            wall_time_min: Vec::with_capacity(n),
        }
    }
}

/// One column of a [`TypedUpdate`]: the values of every write, as the column's type.
enum TypedColumn<'a> {
    Text(Vec<Option<&'a str>>),
    Json(Vec<Json<&'a Value>>),
    Int(Vec<Option<i32>>),
    BigInt(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

/// A bulk job write whose patches all set the same columns (a state change from the Site
/// agent sets `state`, sometimes `return_code` or `data`), bound as typed arrays and
/// expanded with `unnest`: PostgreSQL decodes binary arrays instead of parsing a
/// 1 000-object jsonb document and testing every patchable column of every element
/// (docs/store-performance.md). Any other batch, or a value the typed arrays cannot hold
/// exactly as the document's casts would read it, takes the document path.
struct TypedUpdate<'a> {
    release: Vec<bool>,
    columns: Vec<(&'static str, TypedColumn<'a>)>,
}

impl<'a> TypedUpdate<'a> {
    fn of(writes: &'a [JobWrite]) -> Option<Self> {
        let first = writes.first()?;
        let present: Vec<(&'static str, lifecycle::ColumnKind)> = lifecycle::PATCH_COLUMNS
            .iter()
            .filter(|(c, _)| first.fields.contains_key(*c))
            .copied()
            .collect();
        let same_columns = |w: &JobWrite| {
            lifecycle::PATCH_COLUMNS
                .iter()
                .all(|(c, _)| w.fields.contains_key(*c) == first.fields.contains_key(*c))
        };
        if !writes.iter().all(same_columns) {
            return None;
        }
        let mut columns = Vec::with_capacity(present.len());
        for (name, kind) in present {
            let values = writes.iter().map(|w| &w.fields[name]);
            columns.push((name, TypedColumn::of(kind, values, writes.len())?));
        }
        Some(TypedUpdate {
            release: writes.iter().map(|w| w.release_lock).collect(),
            columns,
        })
    }

    fn sql(&self) -> String {
        let mut sets = String::new();
        let mut arrays = String::from("$1::int8[], $3::bool[]");
        let mut names = String::from("__id, __release");
        for (i, (name, column)) in self.columns.iter().enumerate() {
            let n = i + 4;
            sets.push_str(&format!("{name} = x.{name}, "));
            arrays.push_str(&format!(", ${n}::{}[]", column.sql_type()));
            names.push_str(&format!(", {name}"));
        }
        format!(
            "UPDATE jobs SET {sets}\
             session_id = CASE WHEN x.__release THEN NULL ELSE jobs.session_id END, \
             last_update = $2 \
             FROM unnest({arrays}) AS x({names}) WHERE jobs.id = x.__id \
             RETURNING {JOB_COLUMNS}"
        )
    }

    /// Binds `$1` (the writes' ids, in order), `$2` (`now`), `$3` (releases) and one
    /// array per column.
    fn bind<'q>(
        &'q self,
        q: sqlx::query::QueryAs<'q, sqlx::Postgres, JobRow, sqlx::postgres::PgArguments>,
        ids: &'q [Id],
        now: NaiveDateTime,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, JobRow, sqlx::postgres::PgArguments> {
        let mut q = q.bind(ids).bind(now).bind(&self.release);
        for (_, column) in &self.columns {
            q = match column {
                TypedColumn::Text(v) => q.bind(v),
                TypedColumn::Json(v) => q.bind(v),
                TypedColumn::Int(v) => q.bind(v),
                TypedColumn::BigInt(v) => q.bind(v),
                TypedColumn::Float(v) => q.bind(v),
                TypedColumn::Bool(v) => q.bind(v),
            };
        }
        q
    }
}

impl<'a> TypedColumn<'a> {
    /// The values as the column's type, or `None` when one of them is not what the
    /// document path's cast (`p->>'c'`, then `::int` …) would read the same way.
    fn of(
        kind: lifecycle::ColumnKind,
        values: impl Iterator<Item = &'a Value>,
        n: usize,
    ) -> Option<Self> {
        use lifecycle::ColumnKind as K;
        fn each<'a, T>(
            values: impl Iterator<Item = &'a Value>,
            n: usize,
            f: impl Fn(&'a Value) -> Option<T>,
        ) -> Option<Vec<Option<T>>> {
            let mut out = Vec::with_capacity(n);
            for v in values {
                out.push(if v.is_null() { None } else { Some(f(v)?) });
            }
            Some(out)
        }
        Some(match kind {
            K::Text => TypedColumn::Text(each(values, n, Value::as_str)?),
            // `p->'c'`: a JSON null stays a jsonb null, as here.
            K::Json => TypedColumn::Json(values.map(Json).collect()),
            K::Int => TypedColumn::Int(each(values, n, |v| {
                v.as_i64().and_then(|i| i32::try_from(i).ok())
            })?),
            K::BigInt => TypedColumn::BigInt(each(values, n, Value::as_i64)?),
            K::Float => TypedColumn::Float(each(values, n, |v| {
                (v.is_f64() || v.is_i64()).then(|| v.as_f64()).flatten()
            })?),
            K::Bool => TypedColumn::Bool(each(values, n, Value::as_bool)?),
        })
    }

    fn sql_type(&self) -> &'static str {
        match self {
            TypedColumn::Text(_) => "text",
            TypedColumn::Json(_) => "jsonb",
            TypedColumn::Int(_) => "int4",
            TypedColumn::BigInt(_) => "int8",
            TypedColumn::Float(_) => "float8",
            TypedColumn::Bool(_) => "bool",
        }
    }
}
