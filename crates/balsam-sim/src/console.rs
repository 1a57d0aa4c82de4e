//! Terminal output: one live progress line (redrawn in place on a terminal, printed
//! as plain lines otherwise) and rate-limited warnings that never garble it.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Warnings printed in full before the rest are only counted.
const MAX_WARNINGS: u64 = 500;
/// A warning of the same kind is printed at most once per window (the rest are counted).
const SIMILAR_WINDOW: Duration = Duration::from_secs(10);

pub struct Console {
    tty: bool,
    quiet: bool,
    state: Mutex<State>,
}

struct State {
    progress: String,
    drawn: bool,
    warnings: u64,
    last_plain: Option<Instant>,
    /// Per kind of warning: when it was last printed, and how many were not since.
    recent: HashMap<String, (Instant, u64)>,
}

impl Console {
    pub fn new(quiet: bool) -> Console {
        Console {
            tty: std::io::stderr().is_terminal(),
            quiet,
            state: Mutex::new(State {
                progress: String::new(),
                drawn: false,
                warnings: 0,
                last_plain: None,
                recent: HashMap::new(),
            }),
        }
    }

    /// A line of information (always printed, above the progress line).
    pub fn info(&self, msg: &str) {
        let mut st = crate::util::lock(&self.state);
        self.print_above(&mut st, msg);
    }

    /// A warning (its own kind).
    pub fn warn(&self, msg: &str) {
        self.warn_kind(msg, msg);
    }

    /// A warning of a kind (e.g. "POST /jobs/ connect"): printed at most once per
    /// `SIMILAR_WINDOW` per kind, with the count of the similar ones not printed, so an
    /// outage does not flood the terminal. After `MAX_WARNINGS` none are printed (the
    /// summary counts every error).
    pub fn warn_kind(&self, kind: &str, msg: &str) {
        let mut st = crate::util::lock(&self.state);
        let now = Instant::now();
        let similar = match st.recent.get_mut(kind) {
            Some((last, skipped)) if now.duration_since(*last) < SIMILAR_WINDOW => {
                *skipped += 1;
                return;
            }
            Some((last, skipped)) => {
                *last = now;
                std::mem::take(skipped)
            }
            None => {
                st.recent.insert(kind.to_owned(), (now, 0));
                0
            }
        };
        let msg = if similar > 0 {
            format!(
                "{msg} (and {similar} similar in the last {}s)",
                SIMILAR_WINDOW.as_secs()
            )
        } else {
            msg.to_owned()
        };
        st.warnings += 1;
        if st.warnings <= MAX_WARNINGS {
            self.print_above(&mut st, &format!("warning: {msg}"));
        } else if st.warnings == MAX_WARNINGS + 1 {
            self.print_above(
                &mut st,
                "warning: further warnings are not printed (the summary counts every error)",
            );
        }
    }

    /// Replaces the live progress line. Off a terminal, prints it at most every `every`.
    pub fn progress(&self, line: String, every: Duration) {
        if self.quiet {
            return;
        }
        let mut st = crate::util::lock(&self.state);
        if self.tty {
            st.progress = line;
            st.drawn = true;
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K{}", st.progress);
            let _ = err.flush();
        } else if st.last_plain.is_none_or(|t| t.elapsed() >= every) {
            st.last_plain = Some(Instant::now());
            eprintln!("{line}");
        }
    }

    /// Ends the live line (before the summary is printed).
    pub fn finish_progress(&self) {
        let mut st = crate::util::lock(&self.state);
        if self.tty && st.drawn {
            eprintln!();
            st.drawn = false;
            st.progress.clear();
        }
    }

    fn print_above(&self, st: &mut State, msg: &str) {
        let mut err = std::io::stderr().lock();
        if self.tty && st.drawn {
            let _ = writeln!(err, "\r\x1b[K{msg}");
            let _ = write!(err, "{}", st.progress);
        } else {
            let _ = writeln!(err, "{msg}");
        }
        let _ = err.flush();
    }
}
