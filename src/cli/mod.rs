//! The `tradeoff` command line: one file per subcommand. Results go to stdout (pure
//! JSON with `--format json`), logs and errors to stderr, and the exit code says how
//! it went (see [`ExitStatus`]).

mod batch;
mod evaluate;
mod flags;
mod frontier;
mod info;
mod load;
mod plot;
mod remote;
mod replan;
mod scenarios;
mod serve;
mod solve;
mod table;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use crate::convert::FieldViolation;
use flags::{parse_duration, Format, LimitArgs, SolveFlags, SolverArg};

const EXIT_CODES: &str = "\
Exit codes:
  0  solved: an optimal plan (or the server stopped cleanly)
  1  error: server unreachable, internal or solver failure
  2  bad input: unreadable file, malformed JSON, invalid or oversized plan, bad flags
  3  the plan is infeasible
  4  the plan is unbounded
  5  the time limit ran out (the best plan found, if any, is printed)";

/// The release and the solver engines compiled in, for `--version`.
#[cfg(feature = "highs")]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (solvers: microlp, highs)");
#[cfg(not(feature = "highs"))]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (solvers: microlp)");

/// Sales-strategy optimizer: growth drivers, costs and returns in; the
/// revenue-maximizing budget split that meets the margin requirements out.
#[derive(Debug, Parser)]
#[command(name = "tradeoff", version = VERSION, propagate_version = true, after_help = format!("Examples:\n  tradeoff solve examples/saas_quarterly_plan.json\n  tradeoff solve plan.json --format json > result.json\n  tradeoff batch --plan plan.json scenarios.csv --out results.csv\n  tradeoff serve --listen 127.0.0.1:50051\n  tradeoff load plan.json --server http://127.0.0.1:50051 --clients 8\n\n{EXIT_CODES}"))]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Solve a plan file, in-process or on a server.
    #[command(after_help = format!("Examples:\n  tradeoff solve examples/saas_quarterly_plan.json\n  tradeoff solve plan.json --format json --time-limit 30s > result.json\n  tradeoff solve plan.json --server http://127.0.0.1:50051\n  tradeoff solve plan.json --plot allocation.png\n\n{EXIT_CODES}"))]
    Solve(solve::SolveArgs),
    /// Serve the gRPC API (tradeoff.v1.PlannerService, health, reflection).
    #[command(after_help = format!("{SERVE_HELP}\n\n{EXIT_CODES}"))]
    Serve(serve::ServeArgs),
    /// Score a given allocation against a plan: totals, broken rules, gap to the
    /// optimum.
    #[command(after_help = format!("Examples:\n  tradeoff evaluate plan.json --allocation current.csv\n  tradeoff evaluate plan.json --allocation current.json --format json\n\nAllocation CSV: a driver_id column and one column per period, named as the plan's periods:\n  driver_id,Q1,Q2,Q3,Q4\n  ae,3,2,2,0\n\nExit codes:\n  0  the allocation meets every constraint\n  1  error\n  2  bad input\n  3  the allocation breaks a constraint"))]
    Evaluate(evaluate::EvaluateArgs),
    /// The optimum as a function of one bound: every breakpoint of the curve and the
    /// drivers that enter or leave there.
    #[command(after_help = format!("Examples:\n  tradeoff frontier plan.json --over budget_cap --from 0 --to 600\n  tradeoff frontier plan.json --over min_margin --from 0.1 --to 0.3 --format json\n  tradeoff frontier plan.json --over budget_cap --from 0 --to 600 --plot frontier.png\n\nExit codes:\n  0  the whole range was swept\n  1  error\n  2  bad input\n  5  the time limit cut the sweep short (the points found are printed)"))]
    Frontier(frontier::FrontierArgs),
    /// Solve many variants (scenarios) of one plan, in-process or on servers; each
    /// result is appended to --out as it finishes, and --resume continues a run that
    /// was stopped.
    #[command(after_help = BATCH_HELP)]
    Batch(batch::BatchArgs),
    /// What this binary (or a server) offers: version, solver engines, limits.
    #[command(
        after_help = "Examples:\n  tradeoff info\n  tradeoff info --server http://127.0.0.1:50051 --format json"
    )]
    Info(info::InfoArgs),
    /// Drive a server with concurrent clients for a while: throughput, p50/p99
    /// latency and calls per status code.
    #[command(after_help = LOAD_HELP)]
    Load(load::LoadArgs),
}

const SERVE_HELP: &str = "\
Example:
  RUST_LOG=info tradeoff serve --listen 127.0.0.1:50051 --workers 4 --queue 8

Admission control: at most --workers solves run at once and up to --queue more
wait for a worker; a call that finds both full is refused at once with
RESOURCE_EXHAUSTED and a google.rpc.RetryInfo delay. A RunScenarios call is refused
so only when it cannot start; once started, its scenarios wait their turn.

Time: the client's deadline (grpc-timeout) and options.time_limit are passed to
the solver, which stops itself; a client that goes away stops its solves at the
next check; --max-solve-time caps every call. A solver panic answers INTERNAL and
the server serves on.

Request ids: a call's x-request-id metadata (or a new id when it has none) is
logged with everything the call does (RUST_LOG=info) and echoed in the reply's
metadata.

Stops on SIGINT or SIGTERM: health turns NOT_SERVING, in-flight calls drain.";

const LOAD_HELP: &str = "\
Examples:
  tradeoff load examples/saas_quarterly_plan.json --server http://127.0.0.1:50051 --clients 8 --duration 30s
  tradeoff load plan.json --server http://127.0.0.1:50051 --no-explain --deadline 2s --format json

Each client has its own connection and sends its next Optimize call as soon as the
last one answered; a call refused with RESOURCE_EXHAUSTED waits the retry delay the
server gave. The report (stdout) counts calls per gRPC status code with their
latency; progress goes to stderr.

Exit codes:
  0  the run finished and at least one call answered OK
  1  the server is unreachable, or no call answered OK
  2  bad input: unreadable or malformed plan file, bad flags";

const BATCH_HELP: &str = "\
Examples:
  tradeoff batch --plan plan.json scenarios.csv --out results.csv
  tradeoff batch --plan plan.json scenarios.jsonl --out results.jsonl --server http://a:50051,http://b:50051
  tradeoff batch --plan plan.json scenarios.jsonl --out results.jsonl --resume

Scenario CSV: one row per scenario; an empty cell keeps the base plan's value.
  id,budget_cap,min_margin,revenue_scale.partners,max_units.ae,excluded
  base,,,,,
  lean,4500000,0.16,,,events
  partners-down,,,0.8,12,

Columns: id (required, unique), budget_cap, min_margin, min_contribution,
revenue_target, min_roi, max_change (a re-plan's money moved), confidence and
range_scale (uncertainty), objective (MAXIMIZE_REVENUE, ...), excluded (driver ids
separated by spaces), and per driver
or period: revenue_scale.ID, cost_scale.ID (factors), min_units.ID, max_units.ID
(units committed per period), min_active.ID, max_active.ID (units active per
period), period_budget_cap.PERIOD.
Scenario JSONL: one tradeoff.v1.Scenario per line, e.g.
  {\"id\": \"lean\", \"overrides\": {\"budgetCap\": 4500000, \"revenueScale\": {\"partners\": 0.8}}}

Results are appended and synced one line per scenario as each finishes (in any
order), so a killed run loses nothing: run it again with --resume. On a server
that goes away the unanswered scenarios are sent again, to any server, with
exponential backoff, until --give-up-after passes without a result.

Exit codes:
  0  every scenario was solved (whatever its status: optimal, infeasible, ...)
  1  a scenario failed (invalid overrides, solver error) or the run could not finish
  2  bad input: unreadable or malformed files, invalid base plan, duplicate ids,
     an existing --out without --resume";

/// How a command ended, as a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: solved optimally, or served until stopped.
    Success = 0,
    /// 1: server unreachable, internal or solver failure.
    Failure = 1,
    /// 2: bad input.
    BadInput = 2,
    /// 3: infeasible plan.
    Infeasible = 3,
    /// 4: unbounded plan.
    Unbounded = 4,
    /// 5: time limit reached.
    TimeLimit = 5,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status as u8)
    }
}

/// Errors of the command line, each with its exit status.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: String,
        source: crate::convert::JsonError,
    },
    #[error("invalid plan ({} violation{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, list(.0))]
    Invalid(Vec<FieldViolation>),
    #[error("{0}")]
    TooLarge(String),
    #[error("cannot reach the server at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("{0}")]
    Failed(String),
    #[error("{path}, line {line}: {message}")]
    Scenarios {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Usage(String),
}

fn list(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|violation| format!("  {violation}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl CliError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            CliError::Read { .. }
            | CliError::Json { .. }
            | CliError::Invalid(_)
            | CliError::TooLarge(_)
            | CliError::Scenarios { .. }
            | CliError::Usage(_) => ExitStatus::BadInput,
            CliError::Connect { .. } | CliError::Failed(_) => ExitStatus::Failure,
        }
    }
}

impl From<crate::Error> for CliError {
    fn from(error: crate::Error) -> Self {
        use crate::convert::PlanError;
        match error {
            crate::Error::Plan(PlanError::Invalid(violations)) => CliError::Invalid(violations),
            crate::Error::Plan(too_large @ PlanError::TooLarge { .. }) => {
                CliError::TooLarge(too_large.to_string())
            }
            crate::Error::Solve(unavailable @ crate::solve::SolveError::Unavailable(_)) => {
                CliError::Usage(unavailable.to_string())
            }
            other => CliError::Failed(other.to_string()),
        }
    }
}

/// Prints `value` to stdout: pretty proto3 JSON, or the table `render` makes.
fn print<T: serde::Serialize>(
    format: Format,
    value: &T,
    render: impl FnOnce(&T) -> String,
) -> Result<(), CliError> {
    let output = match format {
        Format::Json => serde_json::to_string_pretty(value)
            .map_err(|error| CliError::Failed(format!("cannot encode the output: {error}")))?,
        Format::Table => render(value),
    };
    // A reader that goes away early (`| head`) is not an error.
    let mut stdout = std::io::stdout().lock();
    match std::io::Write::write_all(&mut stdout, output.as_bytes())
        .and_then(|()| std::io::Write::write_all(&mut stdout, b"\n"))
        .and_then(|()| std::io::Write::flush(&mut stdout))
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Failed(
            format!("cannot write the output: {error}"),
        )),
        _ => Ok(()),
    }
}

/// Reads a file, or stdin for `-`.
fn read_text(path: &str) -> Result<String, CliError> {
    if path == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|source| CliError::Read {
        path: path.to_string(),
        source,
    })
}

/// Reads and parses a plan file (proto3 JSON of `tradeoff.v1.Plan`).
fn read_plan(path: &str) -> Result<crate::pb::Plan, CliError> {
    let text = read_text(path)?;
    crate::convert::parse_plan_json(&text).map_err(|source| CliError::Json {
        path: path.to_string(),
        source,
    })
}

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let status = match cli.command {
        Command::Solve(args) => solve::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Frontier(args) => frontier::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Info(args) => info::run(args),
        Command::Load(args) => load::run(args),
    };
    match status {
        Ok(status) => status.into(),
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_status().into()
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings only, so stdout and
/// stderr stay clean for scripts; the `highs` crate's notes that HiGHS finished
/// with a warning status are left out, since every plan is verified anyway).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,highs=error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
