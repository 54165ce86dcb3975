//! The one library call behind both faces: a wire request in, a wire result out.
//!
//! The gRPC service runs it on a blocking thread; the CLI runs it in-process. Neither
//! holds logic the other lacks.

use std::time::Duration;

use crate::convert::{self, FieldViolation, Limits, PlanError};
use crate::error::Error;
use crate::pb;
use crate::solve::{self, SolveOptions};

/// Solves `request` with at most `time_limit` of wall-clock time (the tighter of
/// `request.options.time_limit` and this argument, when both are set).
pub fn optimize(
    request: &pb::OptimizeRequest,
    limits: &Limits,
    time_limit: Option<Duration>,
) -> Result<pb::OptimizeResponse, Error> {
    let Some(plan) = request.plan.as_ref() else {
        return Err(PlanError::Invalid(vec![FieldViolation {
            field: "plan".into(),
            description: "a plan is required".into(),
        }])
        .into());
    };
    let options = solve_options(request.options.as_ref())?;
    let plan = convert::plan_from_pb(plan, limits)?;
    let options = SolveOptions {
        time_limit: match (options.time_limit, time_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        ..options
    };
    let report = solve::solve(&plan, &options)?;
    tracing::info!(
        plan = %report.plan_name,
        status = ?report.status,
        variables = report.solver.variables,
        rows = report.solver.constraints,
        elapsed_ms = report.solver.elapsed.as_secs_f64() * 1e3,
        "solved"
    );
    Ok(pb::OptimizeResponse {
        result: Some(convert::result_to_pb(&report)),
    })
}

/// Scores `request.allocation` against `request.plan`, comparing it with the
/// optimum found within `time_limit` (see [`optimize`]).
pub fn evaluate(
    request: &pb::EvaluateRequest,
    limits: &Limits,
    time_limit: Option<Duration>,
) -> Result<pb::EvaluateResponse, Error> {
    let required = |field: &str| {
        Error::from(PlanError::Invalid(vec![FieldViolation {
            field: field.into(),
            description: format!("{field} is required"),
        }]))
    };
    let plan = request.plan.as_ref().ok_or_else(|| required("plan"))?;
    let allocation = request
        .allocation
        .as_ref()
        .ok_or_else(|| required("allocation"))?;
    let options = solve_options(request.options.as_ref())?;
    let plan = convert::plan_from_pb(plan, limits)?;
    let allocation = convert::allocation_from_pb(allocation, &plan)?;
    let time_limit = match (options.time_limit, time_limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let evaluation = crate::explain::evaluate(&plan, &allocation, time_limit)?;
    tracing::info!(
        plan = %plan.name,
        violations = evaluation.violations.len(),
        "evaluated"
    );
    Ok(pb::EvaluateResponse {
        evaluation: Some(convert::evaluation_to_pb(&evaluation)),
    })
}

/// The frontier of `request.plan` over one bound, within `time_limit` (the tighter
/// of it and `request.options.time_limit`).
pub fn frontier(
    request: &pb::FrontierRequest,
    limits: &Limits,
    time_limit: Option<Duration>,
) -> Result<pb::FrontierResponse, Error> {
    let plan = request.plan.as_ref().ok_or_else(|| {
        Error::from(PlanError::Invalid(vec![FieldViolation {
            field: "plan".into(),
            description: "a plan is required".into(),
        }]))
    })?;
    let options = solve_options(request.options.as_ref())?;
    let (over, from, to) = convert::sweep_from_pb(request)?;
    let plan = convert::plan_from_pb(plan, limits)?;
    let time_limit = match (options.time_limit, time_limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let frontier = crate::scenario::frontier(&plan, over, from, to, time_limit)?;
    tracing::info!(plan = %plan.name, over = over.name(), points = frontier.points.len(), "frontier");
    Ok(pb::FrontierResponse {
        frontier: Some(convert::frontier_to_pb(&frontier)),
    })
}

/// Validated solve options from the wire.
pub fn solve_options(options: Option<&pb::SolveOptions>) -> Result<SolveOptions, Error> {
    let explain = !options.is_some_and(|options| options.skip_explanations);
    let Some(limit) = options.and_then(|options| options.time_limit.as_ref()) else {
        return Ok(SolveOptions {
            explain,
            ..SolveOptions::default()
        });
    };
    let invalid = || {
        Error::from(PlanError::Invalid(vec![FieldViolation {
            field: "options.time_limit".into(),
            description: "must be a non-negative duration".into(),
        }]))
    };
    let seconds = u64::try_from(limit.seconds).map_err(|_| invalid())?;
    let nanos = u32::try_from(limit.nanos).map_err(|_| invalid())?;
    if nanos >= 1_000_000_000 {
        return Err(invalid());
    }
    Ok(SolveOptions {
        time_limit: Some(Duration::new(seconds, nanos)),
        explain,
    })
}
