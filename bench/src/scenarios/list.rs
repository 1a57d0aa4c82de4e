//! `list`: filtered and paged job listings over a table of `--list-jobs`.
use super::{sample_ids, shorten, Check, Ctx, EPOCH};
use crate::api::{enc, excerpt, Body};
use crate::report::{Progress, Row};
use anyhow::{anyhow, bail, Result};
use reqwest::Method;
use std::time::Instant;

impl Ctx {
    pub async fn list(&mut self) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        self.ensure_work_set().await?;
        if self.args.list_jobs > self.total_jobs() {
            let extra = self.args.list_jobs - self.total_jobs();
            let mut fill = Row::new("list-fill");
            let t0 = Instant::now();
            let batch = self.args.fill_batch;
            self.create_jobs(extra, batch, "list-fill", Some(&mut fill))
                .await?;
            fill.wall = t0.elapsed();
            fill.note = format!(
                "grows the table to {} jobs: POST /jobs/ x{batch} per call",
                self.total_jobs()
            );
            rows.push(fill);
        }
        if self.work_state != "STAGED_IN" {
            bail!("list expects every job in STAGED_IN (it runs before bulk-patch)");
        }

        let site = self.site()?;
        let total = self.total_jobs();
        let r = self.args.list_requests.max(1);
        let even = self.even_jobs;

        struct Shape {
            name: &'static str,
            /// The collection listed: `jobs` or `events`.
            path: &'static str,
            queries: Vec<(String, u64)>, // query, expected results length
            count: u64,
            check: Check,
        }
        let staged = total;
        let offsets: Vec<u64> = (0..r).map(|i| (i * staged / r) / 100 * 100).collect();
        let ids_queries: Vec<(String, u64)> = (0..r)
            .map(|i| {
                let ids = sample_ids(&self.all_ids, 500, i as usize);
                let q = ids
                    .iter()
                    .map(|id| format!("id={id}"))
                    .collect::<Vec<_>>()
                    .join("&");
                (format!("{q}&limit=100000&offset=0"), ids.len() as u64)
            })
            .collect();
        let repeat = |q: String, len: u64| -> Vec<(String, u64)> {
            (0..r).map(|_| (q.clone(), len)).collect()
        };
        let shapes = vec![
            Shape {
                name: "list/state+offset",
                path: "jobs",
                queries: offsets
                    .iter()
                    .map(|k| {
                        (
                            format!("state=STAGED_IN&limit=100&offset={k}"),
                            100.min(staged - k),
                        )
                    })
                    .collect(),
                count: staged,
                check: Check::State("STAGED_IN"),
            },
            Shape {
                name: "list/tags",
                path: "jobs",
                queries: repeat(
                    format!("tags={}&limit=100", enc("kind:even")),
                    100.min(even),
                ),
                count: even,
                check: Check::Kind("even"),
            },
            Shape {
                name: "list/ordering",
                path: "jobs",
                queries: repeat("ordering=-last_update&limit=100".into(), 100.min(total)),
                count: total,
                check: Check::NonIncreasingLastUpdate,
            },
            Shape {
                name: "list/site+state__ne",
                path: "jobs",
                queries: repeat(
                    format!("site_id={site}&state__ne=JOB_FINISHED&limit=100"),
                    100.min(total),
                ),
                count: total,
                check: Check::None,
            },
            Shape {
                name: "list/count",
                path: "jobs",
                queries: repeat("limit=0&offset=0".into(), 0),
                count: total,
                check: Check::None,
            },
            Shape {
                name: "list/count-by-state",
                path: "jobs",
                queries: repeat(
                    format!("site_id={site}&state=STAGED_IN&limit=0&offset=0"),
                    0,
                ),
                count: staged,
                check: Check::None,
            },
            Shape {
                name: "list/id-500",
                path: "jobs",
                count: ids_queries.first().map_or(0, |q| q.1),
                queries: ids_queries,
                check: Check::None,
            },
            // The dashboard's LogEvent queries (web/src/views/DashboardView.vue): every job's
            // creation event (CREATED -> STAGED_IN) lies after the timestamp, so the first
            // counts the whole table and the other two are the quiet-hour case (no match).
            Shape {
                name: "list/events-to_state",
                path: "events",
                queries: repeat(
                    format!("to_state=STAGED_IN&timestamp_after={EPOCH}&ordering=-timestamp&limit=100"),
                    100.min(total),
                ),
                count: total,
                check: Check::None,
            },
            Shape {
                name: "list/events-none",
                path: "events",
                queries: repeat(
                    format!("to_state=JOB_FINISHED&timestamp_after={EPOCH}&ordering=-timestamp&limit=20000"),
                    0,
                ),
                count: 0,
                check: Check::None,
            },
            Shape {
                name: "list/events-from_state",
                path: "events",
                queries: repeat(
                    format!("from_state=RUNNING&timestamp_after={EPOCH}&limit=20000"),
                    0,
                ),
                count: 0,
                check: Check::None,
            },
        ];

        let api = self.api()?.clone();
        let mut all = Row::new("list");
        all.items = Some(0);
        let mut shape_rows = Vec::new();
        for shape in shapes {
            let mut row = Row::new(shape.name);
            row.items = Some(0);
            row.note = match shape.name {
                "list/id-500" => {
                    "GET /jobs/?id=<500 ids spread over the table>&limit=100000&offset=0".into()
                }
                "list/state+offset" => format!(
                    "GET /jobs/?state=STAGED_IN&limit=100&offset=K, K spread over 0..{staged}"
                ),
                _ => format!(
                    "GET /{}/?{}",
                    shape.path,
                    shape.queries.first().map_or("", |q| q.0.as_str())
                ),
            };
            let progress = Progress::new(shape.name, Some(r), "requests", self.args.quiet);
            let mut bad = Vec::new();
            let t0 = Instant::now();
            for (i, (query, expect_len)) in shape.queries.iter().enumerate() {
                self.check_deadline()?;
                let path = format!("{}/?{query}", shape.path);
                let reply = api.call(Method::GET, &path, Body::None, 200).await?;
                row.record(reply.elapsed);
                all.record(reply.elapsed);
                let page = reply.json()?;
                let results = page["results"].as_array().ok_or_else(|| {
                    anyhow!("GET /{path}: no results array: {}", excerpt(&reply.body))
                })?;
                row.add_items(results.len() as u64);
                all.add_items(results.len() as u64);
                if page["count"].as_u64() != Some(shape.count) && bad.len() < 3 {
                    bad.push(format!(
                        "GET /{}/?{}: count {} (expected {})",
                        shape.path,
                        shorten(query, 120),
                        page["count"],
                        shape.count
                    ));
                }
                if results.len() as u64 != *expect_len && bad.len() < 3 {
                    bad.push(format!(
                        "GET /{}/?{}: {} results (expected {expect_len})",
                        shape.path,
                        shorten(query, 120),
                        results.len()
                    ));
                }
                if let Some(msg) = shape.check.verify(results) {
                    if bad.len() < 3 {
                        bad.push(format!("GET /jobs/?{}: {msg}", shorten(query, 120)));
                    }
                }
                progress.update(i as u64 + 1, i as u64 + 1);
            }
            row.wall = t0.elapsed();
            all.wall += row.wall;
            progress.finish(row.requests, row.requests);
            for b in bad {
                self.problem(b);
            }
            shape_rows.push(row);
        }
        all.note = format!(
            "{} query shapes x {r} requests on a table of {total} jobs; items = rows returned",
            shape_rows.len()
        );
        rows.push(all);
        rows.extend(shape_rows);
        Ok(rows)
    }
}
