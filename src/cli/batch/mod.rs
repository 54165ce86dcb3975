//! `tradeoff batch --plan BASE.json SCENARIOS --out RESULTS`: many variants of one
//! plan, in-process on a pool of threads or streamed through one or more servers,
//! each result written to the output as it arrives (and synced to disk at least
//! every 100 ms) so that a killed run loses nothing and `--resume` picks up where
//! it stopped.

mod output;
mod progress;
mod servers;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::scenarios::{self, FileFormat};
use super::{parse_duration, read_plan, CliError, ExitStatus, LimitArgs, SolverArg};
use crate::pb;
use crate::planner;
use output::{previous_ids, Output};
use progress::Progress;
use servers::Remote;

/// Results solved but not yet written. Bounded, so that solvers and servers wait
/// for the disk (through gRPC flow control) instead of piling results up in memory,
/// and so that little is lost to a kill beyond what is in flight.
const RESULTS_IN_FLIGHT: usize = 64;

#[derive(Debug, clap::Args)]
pub(super) struct BatchArgs {
    /// The base plan (proto3 JSON of tradeoff.v1.Plan) every scenario starts from.
    #[arg(long)]
    plan: String,
    /// The scenarios: .jsonl (one tradeoff.v1.Scenario in proto3 JSON per line) or
    /// .csv (one row per scenario; see below).
    scenarios: PathBuf,
    /// Where results go, one line per scenario as it finishes: .jsonl (a
    /// ScenarioResult per line) or .csv (columns scenario_id, status, revenue,
    /// spend, contribution, margin, error).
    #[arg(long)]
    out: PathBuf,
    /// Solve on these servers (comma-separated URLs) instead of in-process; each
    /// takes the next chunk of scenarios as it finishes one.
    #[arg(long, env = "TRADEOFF_SERVER", value_delimiter = ',')]
    server: Vec<String>,
    /// In-process worker threads (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Continue a run: skip scenarios whose id is already in --out. Without it an
    /// existing, non-empty --out is refused (so no scenario is written twice).
    #[arg(long)]
    resume: bool,
    /// Wall-clock budget for each scenario's solve (30s, 500ms).
    #[arg(long, value_parser = parse_duration)]
    time_limit: Option<Duration>,
    /// Solver engine: auto picks HiGHS for large or integer plans when this build
    /// (or the server) has it.
    #[arg(long, value_enum, default_value_t = SolverArg::Auto)]
    solver: SolverArg,
    /// Scenarios per RunScenarios call on a server.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    chunk_size: u32,
    /// Give up on the servers after this long without a single result (a stream
    /// silent this long is also abandoned and its scenarios sent again).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    give_up_after: Duration,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(super) fn run(args: BatchArgs) -> Result<ExitStatus, CliError> {
    let started = Instant::now();
    let out_format = FileFormat::of(&args.out)?;
    let base = read_plan(&args.plan)?;
    let options = pb::SolveOptions {
        time_limit: args.time_limit.map(pbjson_types::Duration::from),
        solver: args.solver.to_pb(),
        skip_explanations: true,
    };
    // The base is checked here in both modes, so that a broken base is bad input
    // before any output is written.
    let batch = planner::scenario_batch(Some(&base), Some(&options), &args.limits.limits())?;

    let done = previous_ids(&args.out, out_format, args.resume)?;
    // Two passes over the scenarios, neither holding them: the first refuses a bad
    // file whole before anything runs, and counts; the second feeds the solvers.
    let checked = scenarios::check(&args.scenarios, &done)?;
    let pending_count = checked.total - checked.done;
    let pending = Arc::new(Pending::new(
        scenarios::open(&args.scenarios)?,
        done,
        &args.scenarios,
    ));
    let mut output = Output::open(&args.out, out_format)?;
    let mut progress = Progress::new(pending_count, checked.done);

    let (sender, mut results) = mpsc::channel::<pb::ScenarioResult>(RESULTS_IN_FLIGHT);
    let outcome = std::thread::scope(|scope| {
        let worker = if args.server.is_empty() {
            let jobs = args
                .jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
                .max(1)
                .min(pending_count.max(1));
            let batch = &batch;
            let pending = &*pending;
            scope.spawn(move || {
                batch.run_pulling(
                    || pending.next(),
                    jobs,
                    |result| sender.blocking_send(result).is_ok(),
                );
                Ok(())
            })
        } else {
            let remote = Remote {
                servers: args.server.clone(),
                base,
                options,
                chunk_size: args.chunk_size as usize,
                give_up_after: args.give_up_after,
                solve_limit: args.time_limit.unwrap_or_default(),
            };
            let pending = Arc::clone(&pending);
            scope.spawn(move || remote.run(pending, pending_count, sender))
        };
        // An early return drops the receiver, which stops the workers.
        while let Some(result) = results.blocking_recv() {
            output.write(&result)?;
            progress.record(&result);
        }
        output.sync()?;
        worker
            .join()
            .unwrap_or_else(|_| Err(CliError::Failed("a batch worker panicked".into())))
    });
    let summary = progress.summary(started.elapsed());
    eprintln!("{summary}");
    outcome?;
    pending.error()?;
    Ok(if progress.failed > 0 || progress.done < pending_count {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// The scenarios still to solve, read from the file as workers ask for them (the
/// ones an earlier run answered skipped), each with its number in the file.
pub(super) struct Pending {
    source: Mutex<Source>,
    path: PathBuf,
}

struct Source {
    reader: scenarios::ScenarioReader<std::fs::File>,
    done: HashSet<String>,
    number: usize,
    /// A read error of the second pass (the file changed since the first): the
    /// batch stops taking scenarios and reports it.
    error: Option<(usize, String)>,
}

impl Pending {
    fn new(
        reader: scenarios::ScenarioReader<std::fs::File>,
        done: HashSet<String>,
        path: &std::path::Path,
    ) -> Self {
        Pending {
            source: Mutex::new(Source {
                reader,
                done,
                number: 0,
                error: None,
            }),
            path: path.to_path_buf(),
        }
    }

    /// The next scenario to solve, with its number in the file; `None` at the end
    /// (or after a read error).
    pub(super) fn next(&self) -> Option<(usize, pb::Scenario)> {
        let mut source = self.source.lock().ok()?;
        if source.error.is_some() {
            return None;
        }
        loop {
            match source.reader.next()? {
                Ok((_, scenario)) => {
                    let number = source.number;
                    source.number += 1;
                    if !source.done.contains(&scenario.id) {
                        return Some((number, scenario));
                    }
                }
                Err(error) => {
                    source.error = Some(error);
                    return None;
                }
            }
        }
    }

    /// Whether reading the scenarios failed (see [`Pending::error`]).
    pub(super) fn failed(&self) -> bool {
        self.source
            .lock()
            .map_or(true, |source| source.error.is_some())
    }

    /// The read error that cut the batch short, if any.
    fn error(&self) -> Result<(), CliError> {
        let error = self
            .source
            .lock()
            .map_err(|_| CliError::Failed("a batch worker panicked".into()))?
            .error
            .take();
        match error {
            Some((line, message)) => Err(scenarios::located(&self.path, line, message)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(text: &str, done: &[&str]) -> (tempfile::TempDir, Pending) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("scenarios.jsonl");
        std::fs::write(&path, text).expect("the scenario file");
        let reader = scenarios::open(&path).expect("opened");
        let done = done.iter().map(|id| id.to_string()).collect();
        let pending = Pending::new(reader, done, &path);
        (dir, pending)
    }

    #[test]
    fn pending_scenarios_skip_the_done_ones_and_keep_their_numbers() {
        let (_dir, pending) = pending(
            "{\"id\": \"a\"}\n\n{\"id\": \"b\"}\n{\"id\": \"c\"}\n",
            &["b"],
        );
        let taken: Vec<(usize, String)> = std::iter::from_fn(|| pending.next())
            .map(|(number, scenario)| (number, scenario.id))
            .collect();
        assert_eq!(taken, [(0, "a".to_string()), (2, "c".to_string())]);
        assert!(!pending.failed());
        assert!(pending.error().is_ok());
    }

    #[test]
    fn a_read_error_ends_the_pending_scenarios_and_names_its_line() {
        // The first pass refuses such a file; this is the file changing between
        // the passes.
        let (_dir, pending) = pending("{\"id\": \"a\"}\n{\"id\": \n{\"id\": \"c\"}\n", &[]);
        assert_eq!(
            pending.next().map(|(_, scenario)| scenario.id),
            Some("a".into())
        );
        assert!(pending.next().is_none());
        assert!(pending.next().is_none(), "nothing is read after the error");
        assert!(pending.failed());
        match pending.error() {
            Err(CliError::Scenarios { line, .. }) => assert_eq!(line, 2),
            other => panic!("expected the line's error, got {other:?}"),
        }
    }
}
