//! Flags more than one subcommand takes, defined once: the output format, the
//! solver engine, size limits, durations, and [`SolveFlags`], the set every command
//! that solves a plan shares.

use std::future::Future;
use std::time::Duration;

use super::{remote, CliError};
use crate::convert::Limits;
use crate::pb;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Format {
    /// For people: tables in plain text.
    Table,
    /// The answer's message as proto3 JSON (camelCase), for scripts.
    Json,
}

/// The solver engine, as a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(super) enum SolverArg {
    /// HiGHS for large or integer plans when compiled in, microlp otherwise.
    #[default]
    Auto,
    /// microlp (pure Rust, always available).
    Microlp,
    /// HiGHS (needs a build with `--features highs`).
    Highs,
}

impl SolverArg {
    /// The `options.solver` wire value.
    pub(super) fn to_pb(self) -> i32 {
        (match self {
            SolverArg::Auto => pb::Solver::Auto,
            SolverArg::Microlp => pb::Solver::Microlp,
            SolverArg::Highs => pb::Solver::Highs,
        }) as i32
    }
}

/// Size limits as flags: what a plan solved in-process (or served) may hold.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct LimitArgs {
    /// Most drivers in one plan.
    #[arg(long, default_value_t = Limits::default().max_drivers)]
    max_drivers: usize,
    /// Most periods in one plan.
    #[arg(long, default_value_t = Limits::default().max_periods)]
    max_periods: usize,
    /// Most response segments of one driver.
    #[arg(long, default_value_t = Limits::default().max_segments)]
    max_segments: usize,
    /// Most variables of the linear program.
    #[arg(long, default_value_t = Limits::default().max_variables)]
    max_variables: usize,
}

impl LimitArgs {
    /// The limits the flags set.
    pub(super) fn limits(&self) -> Limits {
        Limits {
            max_drivers: self.max_drivers,
            max_periods: self.max_periods,
            max_segments: self.max_segments,
            max_variables: self.max_variables,
        }
    }
}

/// The flags of every command that solves one plan (`solve`, `evaluate`,
/// `frontier`): how the answer is printed, where the plan is solved, on which
/// engine, for how long and within which limits.
#[derive(Debug, clap::Args)]
pub(super) struct SolveFlags {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(super) format: Format,
    /// Solve on this server (e.g. http://127.0.0.1:50051) instead of in-process.
    #[arg(long, env = "TRADEOFF_SERVER")]
    server: Option<String>,
    /// Wall-clock budget (30s, 500ms, 2m); what was found by then is reported, with
    /// status TIME_LIMIT.
    #[arg(long, value_parser = parse_duration)]
    time_limit: Option<Duration>,
    /// Solver engine: auto picks HiGHS for large or integer plans when this build
    /// (or the server) has it.
    #[arg(long, value_enum, default_value_t = SolverArg::Auto)]
    solver: SolverArg,
    #[command(flatten)]
    limits: LimitArgs,
}

impl SolveFlags {
    /// The request's solve options; explanations only when `explain`.
    pub(super) fn options(&self, explain: bool) -> pb::SolveOptions {
        pb::SolveOptions {
            time_limit: self.time_limit.map(pbjson_types::Duration::from),
            solver: self.solver.to_pb(),
            skip_explanations: !explain,
        }
    }

    /// Makes `request` in-process through `local` (the planner's call, within
    /// these limits), or on `--server` through `remote` (the same call over gRPC).
    pub(super) fn call<Q, R, Fut>(
        &self,
        request: Q,
        local: fn(&Q, &Limits, Option<Duration>) -> Result<R, crate::Error>,
        remote: impl FnOnce(remote::Client, Q) -> Fut,
    ) -> Result<R, CliError>
    where
        Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
    {
        match &self.server {
            None => Ok(local(&request, &self.limits.limits(), None)?),
            Some(url) => remote::call(url, |client| remote(client, request)),
        }
    }
}

/// Parses a duration written as `30s`, `500ms`, `2m`, `1h` or plain seconds (`1.5`).
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (try 30s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1e3,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}` (use ms, s, m or h)"
            ))
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|error| format!("`{text}`: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_common_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3 weeks").is_err());
    }
}
