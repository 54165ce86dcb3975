//! `tradeoff info`: what this binary, or a server, offers.

use super::{print, remote, CliError, ExitStatus, Format, LimitArgs};
use crate::pb;
use crate::planner;

#[derive(Debug, clap::Args)]
pub(super) struct InfoArgs {
    /// Ask this server (e.g. http://127.0.0.1:50051) instead of describing this
    /// binary (whose admission figures are then `tradeoff serve`'s defaults).
    #[arg(long, env = "TRADEOFF_SERVER")]
    server: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(super) fn run(args: InfoArgs) -> Result<ExitStatus, CliError> {
    let info = match &args.server {
        None => planner::server_info(
            &args.limits.limits(),
            crate::service::DEFAULT_MAX_SCENARIOS,
            crate::pool::PoolConfig::default(),
            crate::service::DEFAULT_MAX_SOLVE_TIME,
        ),
        Some(url) => remote::call(url, |mut client| async move {
            client.get_server_info(pb::GetServerInfoRequest {}).await
        })?,
    };
    print(args.format, &info, render)?;
    Ok(ExitStatus::Success)
}

fn render(info: &pb::GetServerInfoResponse) -> String {
    let solvers: Vec<&str> = info
        .available_solvers
        .iter()
        .map(|&solver| match pb::Solver::try_from(solver) {
            Ok(pb::Solver::Microlp) => "microlp",
            Ok(pb::Solver::Highs) => "highs",
            _ => "unknown",
        })
        .collect();
    format!(
        "tradeoff {}\n\
         solvers:        {}\n\
         auto picks HiGHS (when available) from {} variables, and for integer drivers\n\
         limits:         {} drivers, {} periods, {} segments per driver, {} variables\n\
         scenarios:      at most {} per RunScenarios call\n\
         admission:      {} solver threads, {} queued calls, {} s at most per call",
        info.version,
        solvers.join(", "),
        info.auto_highs_min_variables,
        info.max_drivers,
        info.max_periods,
        info.max_segments,
        info.max_variables,
        info.max_scenarios,
        info.solver_threads,
        info.queue_capacity,
        info.max_solve_time
            .as_ref()
            .map_or(0, |limit| limit.seconds),
    )
}
