//! `GET /jobs/export`: the caller's jobs matching the Jobs list's filters, as CSV or JSON,
//! streamed page by page (keyset on the id), so neither side holds more than one page.
//!
//! Repetition note: handlers are spelled out one per operation, each with its own
//! `#[utoipa::path]` (its OpenAPI text), so their shape repeats across resources on purpose.

use crate::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::extract::Query;
use crate::http::jobs::job_query;
use crate::http::response::ValidationErrorBody;
use crate::state::ServerState;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use balsam_store::StoreError;
use balsam_types::{Id, Job, JobQuery, UserId};
use futures::stream::{self, Stream};
use serde_json::Value;
use tracing::Instrument;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Jobs read per page (and per chunk written).
pub const EXPORT_PAGE: i64 = 1_000;

/// The CSV columns, in order: the job's own fields; tags, parameters and data as JSON.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "app_id",
    "workdir",
    "state",
    "tags",
    "parent_ids",
    "batch_job_id",
    "return_code",
    "last_update",
    "num_nodes",
    "ranks_per_node",
    "threads_per_rank",
    "threads_per_core",
    "gpus_per_rank",
    "node_packing_count",
    "wall_time_min",
    "launch_params",
    "data",
];

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new().routes(routes!(export_jobs))
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Json,
}

/// Every job matching the filters of `GET /jobs/` (`ordering`, `limit` and `offset` aside:
/// rows come by ascending id), as `text/csv` (a header row, then one row per job) or as a
/// JSON array of the jobs `GET /jobs/` returns. Streamed: a page of jobs at a time, each its
/// own snapshot, so a job changed during the export appears once, as of its page.
#[utoipa::path(get, path = "/jobs/export", tag = "jobs",
    params(
        ("format" = Option<String>, Query, description = "csv (default) or json"),
        ("id" = Option<Vec<i64>>, Query), ("parent_id" = Option<Vec<i64>>, Query),
        ("app_id" = Option<i64>, Query), ("site_id" = Option<Vec<i64>>, Query),
        ("batch_job_id" = Option<i64>, Query),
        ("last_update_before" = Option<String>, Query), ("last_update_after" = Option<String>, Query),
        ("workdir__contains" = Option<String>, Query), ("state" = Option<Vec<String>>, Query),
        ("state__ne" = Option<String>, Query), ("tags" = Option<Vec<String>>, Query),
        ("pending_file_cleanup" = Option<bool>, Query),
    ),
    responses(
        (status = 200, description = "The jobs, streamed", content(
            (String = "text/csv"),
            (Vec<Job> = "application/json"),
        )),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn export_jobs(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let format = q
        .enum_one("format", &["csv", "json"], |s| match s {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        })
        .unwrap_or(Format::Csv);
    let mut query = job_query(&mut q);
    query.ordering = None;
    // Accepted for a link copied from the Jobs view; an export is always every row.
    let _ = q.page();
    q.finish()?;
    // The first page is read before answering, so a failing database is a 5xx, not an
    // empty file.
    let first = state
        .store
        .export_jobs_after(user.id, &query, 0, EXPORT_PAGE)
        .await?;
    let (content_type, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "jobs.csv"),
        Format::Json => ("application/json", "jobs.json"),
    };
    let body = Body::from_stream(pages(state, user.id, query, format, first));
    let mut res = body.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    tracing::info!("job export started");
    Ok(res)
}

struct Cursor {
    state: ServerState,
    owner: UserId,
    query: JobQuery,
    format: Format,
    /// The page to write next (the first is read before the answer starts).
    next: Option<Vec<Job>>,
    after: Id,
    started: bool,
    done: bool,
}

/// The body: the opening (CSV header or `[`), one chunk per page, then the closing `]`.
fn pages(
    state: ServerState,
    owner: UserId,
    query: JobQuery,
    format: Format,
    first: Vec<Job>,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    let cursor = Cursor {
        state,
        owner,
        query,
        format,
        next: Some(first),
        after: 0,
        started: false,
        done: false,
    };
    stream::try_unfold(cursor, |mut c| async move {
        if c.done {
            return Ok(None);
        }
        let page = match c.next.take() {
            Some(page) => page,
            None => {
                let span = tracing::info_span!("export.page", after = c.after);
                c.state
                    .store
                    .export_jobs_after(c.owner, &c.query, c.after, EXPORT_PAGE)
                    .instrument(span)
                    .await?
            }
        };
        let mut out = String::new();
        if !c.started {
            out.push_str(match c.format {
                Format::Csv => "",
                Format::Json => "[",
            });
            if c.format == Format::Csv {
                out.push_str(&CSV_COLUMNS.join(","));
                out.push_str("\r\n");
            }
        }
        for (i, job) in page.iter().enumerate() {
            match c.format {
                Format::Csv => csv_row(&mut out, job),
                Format::Json => {
                    if c.started || i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(job).unwrap_or_else(|_| "null".into()));
                }
            }
        }
        c.started = true;
        if let Some(last) = page.last() {
            c.after = last.id;
        }
        if (page.len() as i64) < EXPORT_PAGE {
            c.done = true;
            if c.format == Format::Json {
                out.push(']');
            }
        }
        Ok(Some((Bytes::from(out), c)))
    })
}

fn csv_row(out: &mut String, job: &Job) {
    let json = |v: &serde_json::Map<String, Value>| Value::Object(v.clone()).to_string();
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let fields = [
        job.id.to_string(),
        job.app_id.to_string(),
        job.workdir.clone(),
        job.state.as_str().to_owned(),
        json(&job.tags),
        serde_json::to_string(&job.parent_ids).unwrap_or_default(),
        opt(job.batch_job_id),
        opt(job.return_code),
        balsam_types::time::isoformat_aware(&job.last_update),
        job.num_nodes.to_string(),
        job.ranks_per_node.to_string(),
        job.threads_per_rank.to_string(),
        job.threads_per_core.to_string(),
        job.gpus_per_rank.to_string(),
        job.node_packing_count.to_string(),
        job.wall_time_min.to_string(),
        json(&job.launch_params),
        json(&job.data),
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, field);
    }
    out.push_str("\r\n");
}

/// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. A
/// leading `=`, `+`, `-` or `@` gets a `'` so spreadsheets do not run it as a formula.
fn csv_field(out: &mut String, field: &str) {
    let formula = field.starts_with(['=', '+', '@'])
        || (field.starts_with('-') && field.parse::<f64>().is_err());
    let text = if formula {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        let mut out = String::new();
        for f in [
            "plain",
            "a,b",
            "say \"hi\"",
            "=1+1",
            "-3",
            "-x",
            "line\nbreak",
        ] {
            csv_field(&mut out, f);
            out.push('|');
        }
        assert_eq!(
            out,
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|'=1+1|-3|'-x|\"line\nbreak\"|"
        );
    }
}
