//! `tradeoff solve PLAN.json`: in-process by default, or on a server with `--server`.

use std::time::Duration;

use super::{
    parse_duration, plot, print, read_plan, remote, table, CliError, ExitStatus, LimitArgs,
    SolverArg,
};
use crate::pb::{self, SolveStatus};
use crate::planner;

/// Output format of `solve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Format {
    /// For people: allocation per driver and period, totals, binding constraints.
    Table,
    /// The `PlanResult` message as proto3 JSON (camelCase), for scripts.
    Json,
}

#[derive(Debug, clap::Args)]
pub(super) struct SolveArgs {
    /// The plan file (proto3 JSON of tradeoff.v1.Plan); `-` reads stdin.
    plan: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Solve on this server (e.g. http://127.0.0.1:50051) instead of in-process.
    #[arg(long, env = "TRADEOFF_SERVER")]
    server: Option<String>,
    /// Wall-clock budget for the solve (30s, 500ms, 2m); the best plan found by
    /// then is reported with status TIME_LIMIT.
    #[arg(long, value_parser = parse_duration)]
    time_limit: Option<Duration>,
    /// Solver engine: auto picks HiGHS for large or integer plans when this build
    /// (or the server) has it.
    #[arg(long, value_enum, default_value_t = SolverArg::Auto)]
    solver: SolverArg,
    /// Also draw spend per driver per period (stacked bars) to this file: .svg, or
    /// .png (1200x700, fonts built in).
    #[arg(long)]
    plot: Option<std::path::PathBuf>,
    /// Skip shadow prices and the infeasibility diagnosis (faster on big plans).
    #[arg(long)]
    no_explain: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(super) fn run(args: SolveArgs) -> Result<ExitStatus, CliError> {
    if let Some(path) = &args.plot {
        plot::check_path(path)?;
    }
    let plan = read_plan(&args.plan)?;
    let request = pb::OptimizeRequest {
        plan: Some(plan),
        options: Some(pb::SolveOptions {
            time_limit: args.time_limit.map(pbjson_types::Duration::from),
            solver: args.solver.to_pb(),
            skip_explanations: args.no_explain,
        }),
    };
    let response = match &args.server {
        None => planner::optimize(&request, &args.limits.limits(), None)?,
        Some(url) => remote::call(
            url,
            |mut client| async move { client.optimize(request).await },
        )?,
    };
    let result = response
        .result
        .ok_or_else(|| CliError::Failed("the response carries no result".into()))?;
    if let (Some(path), true) = (&args.plot, result.has_solution) {
        plot::allocation(path, &result)?;
    }
    print(args.format, &result, table::render)?;
    Ok(match SolveStatus::try_from(result.status) {
        Ok(SolveStatus::Optimal) => ExitStatus::Success,
        Ok(SolveStatus::Infeasible) => ExitStatus::Infeasible,
        Ok(SolveStatus::Unbounded) => ExitStatus::Unbounded,
        Ok(SolveStatus::TimeLimit) => ExitStatus::TimeLimit,
        Ok(SolveStatus::Unspecified) | Err(_) => ExitStatus::Failure,
    })
}
