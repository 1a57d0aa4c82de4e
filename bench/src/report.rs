//! Result rows, latency statistics, the printed table, the JSON file, live progress.

use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Ok,
    /// The server does not offer this (optional) endpoint.
    NotAvailable(String),
    Failed(String),
}

/// One line of the report: a scenario, or a sub-measurement of one (`list/...`).
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub status: Status,
    pub requests: u64,
    /// Jobs created / patched / acquired / returned, when that makes sense.
    pub items: Option<u64>,
    pub wall: Duration,
    pub latencies: Vec<Duration>,
    pub note: String,
    pub extra: Value,
}

impl Row {
    pub fn new(name: &str) -> Row {
        Row {
            name: name.to_string(),
            status: Status::Ok,
            requests: 0,
            items: None,
            wall: Duration::ZERO,
            latencies: Vec::new(),
            note: String::new(),
            extra: Value::Null,
        }
    }

    pub fn record(&mut self, latency: Duration) {
        self.requests += 1;
        self.latencies.push(latency);
    }

    pub fn add_items(&mut self, n: u64) {
        *self.items.get_or_insert(0) += n;
    }

    fn secs(&self) -> f64 {
        self.wall.as_secs_f64()
    }

    pub fn req_per_s(&self) -> Option<f64> {
        (self.requests > 0 && self.secs() > 0.0).then(|| self.requests as f64 / self.secs())
    }

    pub fn items_per_s(&self) -> Option<f64> {
        match self.items {
            Some(n) if self.secs() > 0.0 => Some(n as f64 / self.secs()),
            _ => None,
        }
    }

    /// Nearest-rank percentile in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        let idx = rank.clamp(1, sorted.len()) - 1;
        Some(sorted[idx].as_secs_f64() * 1000.0)
    }

    pub fn mean_ms(&self) -> Option<f64> {
        if self.latencies.is_empty() {
            return None;
        }
        let total: f64 = self.latencies.iter().map(Duration::as_secs_f64).sum();
        Some(total * 1000.0 / self.latencies.len() as f64)
    }

    pub fn to_json(&self) -> Value {
        let (status, reason) = match &self.status {
            Status::Ok => ("ok", None),
            Status::NotAvailable(why) => ("n/a", Some(why.clone())),
            Status::Failed(why) => ("error", Some(why.clone())),
        };
        let round = |v: Option<f64>| v.map(|x| (x * 1000.0).round() / 1000.0);
        let mut obj = json!({
            "name": self.name,
            "status": status,
            "requests": self.requests,
            "items": self.items,
            "wall_s": round(Some(self.secs())),
            "req_per_s": round(self.req_per_s()),
            "items_per_s": round(self.items_per_s()),
            "p50_ms": round(self.percentile_ms(50.0)),
            "p99_ms": round(self.percentile_ms(99.0)),
            "max_ms": round(self.percentile_ms(100.0)),
            "mean_ms": round(self.mean_ms()),
        });
        if let Some(reason) = reason {
            obj["reason"] = json!(reason);
        }
        if !self.note.is_empty() {
            obj["note"] = json!(self.note);
        }
        if !self.extra.is_null() {
            obj["extra"] = self.extra.clone();
        }
        obj
    }
}

fn cell(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) => format!("{x:.decimals$}"),
        None => "-".to_string(),
    }
}

pub fn table(rows: &[Row]) -> String {
    let header = [
        "scenario", "status", "requests", "items", "wall s", "req/s", "items/s", "p50 ms", "p99 ms",
    ];
    let mut lines: Vec<[String; 9]> = Vec::new();
    for r in rows {
        let status = match &r.status {
            Status::Ok => "ok",
            Status::NotAvailable(_) => "n/a",
            Status::Failed(_) => "ERROR",
        };
        lines.push([
            r.name.clone(),
            status.to_string(),
            r.requests.to_string(),
            r.items.map_or("-".to_string(), |n| n.to_string()),
            format!("{:.2}", r.secs()),
            cell(r.req_per_s(), 1),
            cell(r.items_per_s(), 0),
            cell(r.percentile_ms(50.0), 1),
            cell(r.percentile_ms(99.0), 1),
        ]);
    }
    let mut widths = header.map(str::len);
    for l in &lines {
        for (w, c) in widths.iter_mut().zip(l.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let fmt_line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i <= 1 {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = String::new();
    let head: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    out.push_str(&fmt_line(&head));
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.push('\n');
    for l in &lines {
        out.push_str(&fmt_line(l));
        out.push('\n');
    }
    let notes: Vec<String> = rows
        .iter()
        .filter_map(|r| match &r.status {
            Status::NotAvailable(why) => Some(format!("  {}: n/a: {why}", r.name)),
            Status::Failed(why) => Some(format!("  {}: ERROR: {why}", r.name)),
            Status::Ok if !r.note.is_empty() => Some(format!("  {}: {}", r.name, r.note)),
            Status::Ok => None,
        })
        .collect();
    if !notes.is_empty() {
        out.push_str("notes:\n");
        for n in notes {
            out.push_str(&n);
            out.push('\n');
        }
    }
    out
}

/// A live progress line on stderr (rewritten in place on a terminal, a line every few
/// seconds otherwise). Safe to share between tasks.
pub struct Progress {
    label: String,
    total: Option<u64>,
    unit: &'static str,
    start: Instant,
    tty: bool,
    quiet: bool,
    last: Mutex<Option<Instant>>,
}

impl Progress {
    pub fn new(label: &str, total: Option<u64>, unit: &'static str, quiet: bool) -> Progress {
        Progress {
            label: label.to_string(),
            total,
            unit,
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            quiet,
            last: Mutex::new(None),
        }
    }

    fn line(&self, done: u64, requests: u64) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let total = self.total.map_or(String::new(), |t| format!("/{t}"));
        format!(
            "[{}] {done}{total} {}, {requests} requests, {rate:.0} {}/s, {secs:.1} s",
            self.label, self.unit, self.unit
        )
    }

    pub fn update(&self, done: u64, requests: u64) {
        if self.quiet {
            return;
        }
        let every = if self.tty {
            Duration::from_millis(150)
        } else {
            Duration::from_secs(10)
        };
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < every) {
            return;
        }
        *last = Some(now);
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[K{}", self.line(done, requests));
        } else {
            let _ = writeln!(err, "{}", self.line(done, requests));
        }
        let _ = err.flush();
    }

    pub fn finish(&self, done: u64, requests: u64) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        let clear = if self.tty { "\r\x1b[K" } else { "" };
        let _ = writeln!(err, "{clear}{} done", self.line(done, requests));
    }
}

/// A message on stderr that does not collide with a live progress line.
pub fn say(msg: &str) {
    let mut err = std::io::stderr().lock();
    let clear = if std::io::stderr().is_terminal() {
        "\r\x1b[K"
    } else {
        ""
    };
    let _ = writeln!(err, "{clear}{msg}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut r = Row::new("x");
        for ms in 1..=100u64 {
            r.record(Duration::from_millis(ms));
        }
        assert_eq!(r.percentile_ms(50.0), Some(50.0));
        assert_eq!(r.percentile_ms(99.0), Some(99.0));
        assert_eq!(r.percentile_ms(100.0), Some(100.0));
        let mut one = Row::new("y");
        one.record(Duration::from_millis(7));
        assert_eq!(one.percentile_ms(99.0), Some(7.0));
        assert_eq!(Row::new("z").percentile_ms(50.0), None);
    }
}
