//! A batch's progress and counts, on stderr.

use std::time::{Duration, Instant};

use crate::pb;

/// Counts and progress on stderr: a progress bar on a terminal, plain lines
/// every 5 % or every 2 s otherwise (logs, CI).
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    skipped: usize,
    pub(super) done: usize,
    pub(super) failed: usize,
    infeasible: usize,
    /// Scenarios whose first level an earlier scenario's optimal basis settled.
    reused: usize,
    /// Of those, the ones that needed simplex pivots from it.
    pivoted: usize,
    started: Instant,
    last_line: Instant,
    last_step: usize,
}

impl Progress {
    pub(super) fn new(total: usize, skipped: usize) -> Progress {
        if skipped > 0 {
            eprintln!("batch: {skipped} scenario(s) already done, {total} to go");
        }
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} scenarios, {per_sec}, eta {eta} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            total,
            skipped,
            done: 0,
            failed: 0,
            infeasible: 0,
            reused: 0,
            pivoted: 0,
            started: now,
            last_line: now,
            last_step: 0,
        }
    }

    pub(super) fn record(&mut self, result: &pb::ScenarioResult) {
        self.done += 1;
        if result.basis_reused {
            self.reused += 1;
            if result.basis_pivots > 0 {
                self.pivoted += 1;
            }
        }
        if result.error.is_some() {
            self.failed += 1;
        } else if result.status == pb::SolveStatus::Infeasible as i32 {
            self.infeasible += 1;
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if result.error.is_some() {
                bar.set_message(format!("({} failed)", self.failed));
            }
            return;
        }
        let step = self.done * 20 / self.total.max(1);
        if step > self.last_step || self.last_line.elapsed() >= Duration::from_secs(2) {
            self.last_step = step;
            self.last_line = Instant::now();
            let elapsed = self.started.elapsed().as_secs_f64();
            eprintln!(
                "batch: {}/{} done ({} failed), {:.1}/s",
                self.done,
                self.total,
                self.failed,
                self.done as f64 / elapsed.max(1e-9)
            );
        }
    }

    /// Clears the bar and says how the run went.
    pub(super) fn summary(&self, elapsed: Duration) -> String {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let seconds = elapsed.as_secs_f64();
        format!(
            "batch: {} of {} scenario(s) done in {seconds:.1} s ({:.1}/s): {} failed, {} \
             infeasible; {} settled from an earlier optimal basis ({} of them after simplex \
             pivots), {} by the solver{}",
            self.done,
            self.total,
            self.done as f64 / seconds.max(1e-9),
            self.failed,
            self.infeasible,
            self.reused,
            self.pivoted,
            self.done - self.reused - self.failed,
            if self.skipped > 0 {
                format!("; {} skipped (already in the output)", self.skipped)
            } else {
                String::new()
            }
        )
    }
}
