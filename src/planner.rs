//! The one library call behind both faces: a wire request in, a wire result out.
//!
//! The gRPC service runs it on a blocking thread; the CLI runs it in-process. Neither
//! holds logic the other lacks.

use std::borrow::Borrow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::convert::{self, FieldViolation, Limits, PlanError};
use crate::error::Error;
use crate::model::Plan;
use crate::pb;
use crate::solve::{Bases, SolveOptions};

/// Solves `request` with at most `time_limit` of wall-clock time (the tighter of
/// `request.options.time_limit` and this argument, when both are set).
pub fn optimize(
    request: &pb::OptimizeRequest,
    limits: &Limits,
    time_limit: Option<Duration>,
) -> Result<pb::OptimizeResponse, Error> {
    let (plan, options) = plan_and_options(
        request.plan.as_ref(),
        request.options.as_ref(),
        limits,
        time_limit,
    )?;
    let report = crate::analysis::solve(&plan, &options)?;
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
    let (plan, options) = plan_and_options(
        request.plan.as_ref(),
        request.options.as_ref(),
        limits,
        time_limit,
    )?;
    let allocation = request
        .allocation
        .as_ref()
        .ok_or_else(|| convert::missing("allocation", "an allocation"))?;
    let allocation = convert::allocation_from_pb(allocation, &plan)?;
    let evaluation =
        crate::analysis::evaluate(&plan, &allocation, options.time_limit, options.solver)?;
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
    let (plan, options) = plan_and_options(
        request.plan.as_ref(),
        request.options.as_ref(),
        limits,
        time_limit,
    )?;
    let (over, from, to) = convert::sweep_from_pb(request, &plan)?;
    let frontier =
        crate::scenario::frontier(&plan, over, from, to, options.time_limit, options.solver)?;
    tracing::info!(plan = %plan.name, over = %over.name(&plan), points = frontier.points.len(), "frontier");
    Ok(pb::FrontierResponse {
        frontier: Some(convert::frontier_to_pb(&frontier, &plan)),
    })
}

/// A batch of scenarios ready to run: the base plan validated once, the options
/// resolved (explanations off: a batch needs totals and allocations only), and
/// the optimal bases of its solved scenarios kept for the next ones (most
/// what-ifs of one plan keep an earlier optimal basis: then a scenario's first
/// level is one factorisation, not a solve).
#[derive(Debug, Clone)]
pub struct ScenarioBatch {
    base: pb::Plan,
    options: SolveOptions,
    limits: Limits,
    bases: Arc<Bases>,
}

/// Checks a batch's base plan and options once, so that a broken base fails the
/// whole batch up front instead of every scenario alike. Violations of the base are
/// reported under `base.` (`base.drivers[1].unit_cost`).
pub fn scenario_batch(
    base: Option<&pb::Plan>,
    options: Option<&pb::SolveOptions>,
    limits: &Limits,
) -> Result<ScenarioBatch, Error> {
    let base = base.ok_or_else(|| convert::missing("base", "a base plan"))?;
    let options = solve_options(options)?;
    match convert::plan_from_pb(base, limits) {
        Ok(_) => {}
        Err(PlanError::Invalid(violations)) => {
            return Err(PlanError::Invalid(
                violations
                    .into_iter()
                    .map(|violation| FieldViolation {
                        field: format!("base.{}", violation.field),
                        description: violation.description,
                    })
                    .collect(),
            )
            .into())
        }
        Err(error) => return Err(error.into()),
    }
    Ok(ScenarioBatch {
        base: base.clone(),
        options: SolveOptions {
            explain: false,
            ..options
        },
        limits: *limits,
        bases: Arc::new(Bases::new()),
    })
}

impl ScenarioBatch {
    /// Solves scenario number `index` of the batch within `time_limit` (the tighter
    /// of it and the batch's own), never failing: a scenario that cannot be solved
    /// gets a result with its error, so that it does not stop the others.
    pub fn run(
        &self,
        index: usize,
        scenario: &pb::Scenario,
        time_limit: Option<Duration>,
    ) -> pb::ScenarioResult {
        let id = scenario.id.as_str();
        let invalid = |violations: Vec<FieldViolation>| {
            let message = format!(
                "invalid scenario: {}",
                violations
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            let code = Error::Plan(PlanError::Invalid(Vec::new())).code();
            convert::scenario_error_to_pb(id, code.as_str(), message, &violations)
        };
        if id.is_empty() {
            return invalid(vec![FieldViolation {
                field: format!("scenarios[{index}].id"),
                description: "a scenario id is required".into(),
            }]);
        }
        let overrides = scenario.overrides.clone().unwrap_or_default();
        let root = format!("scenarios[{index}].overrides");
        let applied = match crate::convert::overrides::apply(&self.base, &overrides, &root) {
            Ok(applied) => applied,
            Err(violations) => return invalid(violations),
        };
        let plan = match convert::plan_from_pb(&applied.plan, &self.limits) {
            Ok(plan) => plan,
            Err(PlanError::Invalid(violations)) => {
                return invalid(
                    violations
                        .into_iter()
                        .map(|violation| applied.locate(violation))
                        .collect(),
                )
            }
            Err(too_large) => {
                let message = too_large.to_string();
                let code = Error::Plan(too_large).code();
                return convert::scenario_error_to_pb(id, code.as_str(), message, &[]);
            }
        };
        let options = SolveOptions {
            time_limit: tighter(self.options.time_limit, time_limit),
            ..self.options
        };
        match crate::analysis::solve_with(&plan, &options, Some(&self.bases)) {
            Ok(report) => convert::scenario_result_to_pb(id, &report),
            Err(error) => {
                tracing::error!(scenario = id, %error, "scenario solve failed");
                let message = error.to_string();
                let code = Error::Solve(error).code();
                convert::scenario_error_to_pb(id, code.as_str(), message, &[])
            }
        }
    }

    /// Solves `scenarios` (each with its number in the batch) on `jobs` threads,
    /// each thread taking the next scenario as it finishes one, and hands every
    /// result to `deliver` as soon as it is solved, in any order. A thread stops
    /// when `deliver` returns false (nobody takes results any more). This is
    /// `tradeoff batch` without `--server` on scenarios held in memory; it is
    /// public so that benchmarks time that same path.
    pub fn run_on_threads(
        &self,
        scenarios: &[(usize, pb::Scenario)],
        jobs: usize,
        deliver: impl Fn(pb::ScenarioResult) -> bool + Sync,
    ) {
        let next = AtomicUsize::new(0);
        let take = || {
            scenarios
                .get(next.fetch_add(1, Ordering::Relaxed))
                .map(|(index, scenario)| (*index, scenario))
        };
        self.run_pulling(take, jobs.min(scenarios.len()), deliver);
    }

    /// Like [`ScenarioBatch::run_on_threads`], for scenarios that `next` hands
    /// out one at a time (`None`: no more) — read from a file as the threads need
    /// them, so that a batch of any length runs in bounded memory (`tradeoff
    /// batch` on a scenario file).
    pub fn run_pulling<S: Borrow<pb::Scenario>>(
        &self,
        next: impl Fn() -> Option<(usize, S)> + Sync,
        jobs: usize,
        deliver: impl Fn(pb::ScenarioResult) -> bool + Sync,
    ) {
        std::thread::scope(|scope| {
            for _ in 0..jobs.max(1) {
                let (next, deliver) = (&next, &deliver);
                scope.spawn(move || {
                    while let Some((index, scenario)) = next() {
                        if !deliver(self.run(index, scenario.borrow(), None)) {
                            break;
                        }
                    }
                });
            }
        });
    }
}

/// What a server configured so offers (the `GetServerInfo` answer; `tradeoff info`
/// prints the same for the binary itself, with the server defaults).
pub fn server_info(
    limits: &Limits,
    max_scenarios: usize,
    pool: crate::pool::PoolConfig,
    max_solve_time: Duration,
) -> pb::GetServerInfoResponse {
    let count = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
    pb::GetServerInfoResponse {
        version: env!("CARGO_PKG_VERSION").to_string(),
        available_solvers: crate::solve::Backend::available()
            .into_iter()
            .map(|backend| convert::backend_to_pb(backend) as i32)
            .collect(),
        auto_highs_min_variables: count(crate::solve::AUTO_HIGHS_MIN_VARIABLES),
        max_drivers: count(limits.max_drivers),
        max_periods: count(limits.max_periods),
        max_segments: count(limits.max_segments),
        max_variables: count(limits.max_variables),
        max_scenarios: count(max_scenarios),
        solver_threads: count(pool.workers),
        queue_capacity: count(pool.queue),
        max_solve_time: Some(pbjson_types::Duration::from(max_solve_time)),
    }
}

/// The plan a request carries, validated, and its options, with the time limit the
/// tighter of the request's own and `time_limit` (the caller's).
fn plan_and_options(
    plan: Option<&pb::Plan>,
    options: Option<&pb::SolveOptions>,
    limits: &Limits,
    time_limit: Option<Duration>,
) -> Result<(Plan, SolveOptions), Error> {
    let plan = plan.ok_or_else(|| convert::missing("plan", "a plan"))?;
    let options = solve_options(options)?;
    let plan = convert::plan_from_pb(plan, limits)?;
    let options = SolveOptions {
        time_limit: tighter(options.time_limit, time_limit),
        ..options
    };
    Ok((plan, options))
}

/// The tighter of two optional time limits.
pub(crate) fn tighter(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The solve options a request asks for, refused when this build lacks the engine
/// asked for (before any work starts).
pub fn solve_options(options: Option<&pb::SolveOptions>) -> Result<SolveOptions, Error> {
    let options = convert::solve_options_from_pb(options)?;
    options.solver.check_available()?;
    Ok(options)
}
