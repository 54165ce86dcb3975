//! `tradeoff batch --plan BASE.json SCENARIOS --out RESULTS`: many variants of one
//! plan, in-process on a pool of threads or streamed through one or more servers,
//! each result appended to the output (and synced) as it arrives so that a killed
//! run loses nothing and `--resume` picks up where it stopped.

mod output;
mod progress;
mod servers;

use std::path::PathBuf;
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
    let scenarios = scenarios::read(&args.scenarios)?;
    let options = pb::SolveOptions {
        time_limit: args.time_limit.map(pbjson_types::Duration::from),
        solver: args.solver.to_pb(),
        skip_explanations: true,
    };
    // The base is checked here in both modes, so that a broken base is bad input
    // before any output is written.
    let batch = planner::scenario_batch(Some(&base), Some(&options), &args.limits.limits())?;

    let done = previous_ids(&args.out, out_format, args.resume)?;
    let total = scenarios.len();
    let pending: Vec<(usize, pb::Scenario)> = scenarios
        .into_iter()
        .enumerate()
        .filter(|(_, scenario)| !done.contains(&scenario.id))
        .collect();
    let skipped = total - pending.len();
    let mut output = Output::open(&args.out, out_format)?;
    let mut progress = Progress::new(pending.len(), skipped);

    let (sender, mut results) = mpsc::channel::<pb::ScenarioResult>(RESULTS_IN_FLIGHT);
    let outcome = std::thread::scope(|scope| {
        let worker = if args.server.is_empty() {
            let jobs = args
                .jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
                .max(1);
            let batch = &batch;
            let pending = &pending;
            scope.spawn(move || {
                batch.run_on_threads(pending, jobs, |result| sender.blocking_send(result).is_ok());
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
            let pending = pending.clone();
            scope.spawn(move || remote.run(pending, sender))
        };
        // An early return drops the receiver, which stops the workers.
        while let Some(result) = results.blocking_recv() {
            output.write(&result)?;
            progress.record(&result);
        }
        worker
            .join()
            .unwrap_or_else(|_| Err(CliError::Failed("a batch worker panicked".into())))
    });
    let summary = progress.summary(started.elapsed());
    eprintln!("{summary}");
    outcome?;
    Ok(if progress.failed > 0 || progress.done < pending.len() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
