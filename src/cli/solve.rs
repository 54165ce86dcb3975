//! `tradeoff solve PLAN.json`: in-process by default, or on a server with `--server`.

use super::replan::ReplanFlags;
use super::{plot, print, read_plan, table, CliError, ExitStatus, SolveFlags};
use crate::pb::{self, SolveStatus};
use crate::planner;

#[derive(Debug, clap::Args)]
pub(super) struct SolveArgs {
    /// The plan file (proto3 JSON of tradeoff.v1.Plan); `-` reads stdin.
    plan: String,
    #[command(flatten)]
    flags: SolveFlags,
    #[command(flatten)]
    replan: ReplanFlags,
    /// Also draw spend per driver per period (stacked bars) to this file: .svg, or
    /// .png (1200x700, fonts built in).
    #[arg(long)]
    plot: Option<std::path::PathBuf>,
    /// Skip shadow prices and the infeasibility diagnosis (faster on big plans).
    #[arg(long)]
    no_explain: bool,
}

pub(super) fn run(args: SolveArgs) -> Result<ExitStatus, CliError> {
    if let Some(path) = &args.plot {
        plot::check_path(path)?;
    }
    let mut plan = read_plan(&args.plan)?;
    args.replan.apply(&mut plan)?;
    let request = pb::OptimizeRequest {
        plan: Some(plan),
        options: Some(args.flags.options(!args.no_explain)),
    };
    let response = args.flags.call(
        request,
        planner::optimize,
        |mut client, request| async move { client.optimize(request).await },
    )?;
    let result = response
        .result
        .ok_or_else(|| CliError::Failed("the response carries no result".into()))?;
    if let (Some(path), true) = (&args.plot, result.has_solution) {
        plot::allocation(path, &result)?;
    }
    print(args.flags.format, &result, table::render)?;
    Ok(match SolveStatus::try_from(result.status) {
        Ok(SolveStatus::Optimal) => ExitStatus::Success,
        Ok(SolveStatus::Infeasible) => ExitStatus::Infeasible,
        Ok(SolveStatus::Unbounded) => ExitStatus::Unbounded,
        Ok(SolveStatus::TimeLimit) => ExitStatus::TimeLimit,
        Ok(SolveStatus::Unspecified) | Err(_) => ExitStatus::Failure,
    })
}
