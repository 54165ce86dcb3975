//! `tradeoff solve PLAN.json`: in-process by default, or on a server with `--server`.

use std::time::Duration;

use tonic::Code;
use tonic_types::StatusExt;

use super::{parse_duration, table, CliError, ExitStatus, LimitArgs};
use crate::convert::{parse_plan_json, FieldViolation};
use crate::pb::{self, planner_service_client::PlannerServiceClient, SolveStatus};
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
    /// Skip shadow prices and the infeasibility diagnosis (faster on big plans).
    #[arg(long)]
    no_explain: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(super) fn run(args: SolveArgs) -> Result<ExitStatus, CliError> {
    let text = if args.plan == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.plan)
    }
    .map_err(|source| CliError::Read {
        path: args.plan.clone(),
        source,
    })?;
    let plan = parse_plan_json(&text).map_err(|source| CliError::Json {
        path: args.plan.clone(),
        source,
    })?;
    let request = pb::OptimizeRequest {
        plan: Some(plan),
        options: Some(pb::SolveOptions {
            time_limit: args.time_limit.map(pbjson_types::Duration::from),
            skip_explanations: args.no_explain,
        }),
    };
    let response = match &args.server {
        None => planner::optimize(&request, &args.limits.limits(), None)?,
        Some(url) => remote(url, request)?,
    };
    let result = response
        .result
        .ok_or_else(|| CliError::Failed("the response carries no result".into()))?;
    let output = match args.format {
        Format::Json => serde_json::to_string_pretty(&result)
            .map_err(|error| CliError::Failed(format!("cannot encode the result: {error}")))?,
        Format::Table => table::render(&result),
    };
    println!("{output}");
    Ok(match SolveStatus::try_from(result.status) {
        Ok(SolveStatus::Optimal) => ExitStatus::Success,
        Ok(SolveStatus::Infeasible) => ExitStatus::Infeasible,
        Ok(SolveStatus::Unbounded) => ExitStatus::Unbounded,
        Ok(SolveStatus::TimeLimit) => ExitStatus::TimeLimit,
        Ok(SolveStatus::Unspecified) | Err(_) => ExitStatus::Failure,
    })
}

/// Calls `Optimize` on `url`, mapping gRPC errors onto the CLI's.
fn remote(url: &str, request: pb::OptimizeRequest) -> Result<pb::OptimizeResponse, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Failed(format!("cannot start the runtime: {error}")))?;
    runtime.block_on(async {
        let connect_error = |reason: String| CliError::Connect {
            url: url.to_string(),
            reason,
        };
        let endpoint = tonic::transport::Endpoint::from_shared(url.to_string())
            .map_err(|error| connect_error(error.to_string()))?
            .connect_timeout(Duration::from_secs(10));
        let channel = endpoint
            .connect()
            .await
            .map_err(|error| connect_error(error.to_string()))?;
        let mut client = PlannerServiceClient::new(channel)
            .max_decoding_message_size(256 * 1024 * 1024)
            .max_encoding_message_size(256 * 1024 * 1024);
        match client.optimize(request).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(status_error(&status)),
        }
    })
}

fn status_error(status: &tonic::Status) -> CliError {
    match status.code() {
        Code::InvalidArgument => {
            let violations: Vec<FieldViolation> = status
                .get_details_bad_request()
                .map(|bad_request| {
                    bad_request
                        .field_violations
                        .into_iter()
                        .map(|violation| FieldViolation {
                            field: violation.field,
                            description: violation.description,
                        })
                        .collect()
                })
                .unwrap_or_default();
            if violations.is_empty() {
                CliError::Invalid(vec![FieldViolation {
                    field: "plan".into(),
                    description: status.message().to_string(),
                }])
            } else {
                CliError::Invalid(violations)
            }
        }
        Code::ResourceExhausted => CliError::TooLarge(status.message().to_string()),
        Code::Unavailable => CliError::Connect {
            url: "server".into(),
            reason: status.message().to_string(),
        },
        code => CliError::Failed(format!("server answered {code:?}: {}", status.message())),
    }
}
