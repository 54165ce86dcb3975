//! Why the plan is what it is (docs/MODEL.md §3): shadow prices of every named
//! constraint, and for infeasible plans a diagnosis of what to relax.
//!
//! The embedded solver reports no duals, and no engine's duals say where a rate
//! ends or what it is on the other side of a kink. Prices are read off an optimal
//! basis built from the first stage's vertex instead (`basis`): its duals are the
//! rates, and a parametric walk of each bound (dual simplex steps on the factorised
//! basis) finds where each rate really changes. What the basis cannot settle is
//! measured on the optimal-value function itself (`prices`): the first objective is
//! re-optimised with one bound moved. For a linear program that function is
//! piecewise linear and concave (convex when minimising) in a right-hand side, so a
//! probe that lies on the line through two earlier points proves the whole interval
//! linear.

mod diagnosis;
mod drivers;
mod evaluate;
mod prices;
mod warm;

pub use diagnosis::{diagnose, Diagnosis, Relaxation};
pub use drivers::{break_even_scales, MAX_DRIVERS_FOR_BREAK_EVEN};
pub use evaluate::{evaluate, Allocation, DriverGap, Evaluation, Violation};
pub use prices::{rate_ahead, shadow_prices, ShadowPrice};

use std::time::{Duration, Instant};

use crate::model::Plan;
use crate::program::{ConstraintSource, Program};
use crate::solve::{
    first_objective, first_optimum, Optimum, PlanReport, ProgramSolution, SolveError, Status,
};

/// Adds explanations to `report`: shadow prices when a plan was found, a diagnosis
/// when the plan is infeasible. An explanation that cannot finish within
/// `time_limit` is left out (and logged); the result itself stands.
pub fn explain(
    report: &mut PlanReport,
    plan: &Plan,
    program: &Program,
    solution: &ProgramSolution,
    time_limit: Option<Duration>,
) {
    let deadline = time_limit.map(|limit| Instant::now() + limit);
    match (&solution.values, solution.status) {
        (Some(values), Status::Optimal | Status::TimeLimit) => {
            let fixed;
            let priced = if program.is_mixed_integer() {
                fixed = program.with_integers_fixed(values);
                report.prices_with_integers_fixed = true;
                &fixed
            } else {
                program
            };
            let started = Instant::now();
            // A linear program's first stage already found the vertex to price
            // from; with integers fixed it is a different program, solved here.
            let first = match (&solution.first_stage, program.is_mixed_integer()) {
                (Some(vertex), false) => {
                    let (_, expr) = first_objective(plan.objective, program);
                    Ok(Optimum::Value(expr.eval(vertex), vertex.clone()))
                }
                _ => first_optimum(priced, plan.objective, time_limit),
            };
            tracing::debug!(elapsed = ?started.elapsed(), "priced program solved");
            let prices = match first {
                Ok(Optimum::Value(optimum, vertex)) => shadow_prices(
                    priced,
                    plan.objective,
                    optimum,
                    values,
                    Some(&vertex),
                    deadline,
                ),
                Ok(other) => Err(SolveError::Backend(format!(
                    "the program to price did not solve ({other:?})"
                ))),
                Err(error) => Err(error),
            };
            match prices {
                Ok(prices) => {
                    for (constraint, price) in report.constraints.iter_mut().zip(prices) {
                        match price {
                            Ok(price) => constraint.price = Some(price),
                            Err(reason) => constraint.unpriced_reason = Some(reason),
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "no shadow prices");
                    for constraint in &mut report.constraints {
                        constraint.unpriced_reason = Some(error.to_string());
                    }
                }
            }
            if plan.drivers.len() <= MAX_DRIVERS_FOR_BREAK_EVEN
                && solution.status == Status::Optimal
            {
                let funded: Vec<bool> = report
                    .drivers
                    .iter()
                    .map(|driver| driver.units > 1e-7)
                    .collect();
                match break_even_scales(plan, &funded, program.backend, deadline) {
                    Ok(scales) => {
                        for (driver, scale) in report.drivers.iter_mut().zip(scales) {
                            driver.break_even_scale = scale;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "no break-even scales"),
                }
            }
        }
        (None, Status::Infeasible) => {
            report.diagnosis = Some(match diagnose(plan, program, time_limit) {
                Ok(diagnosis) => diagnosis,
                Err(error) => {
                    tracing::warn!(%error, "no diagnosis");
                    Diagnosis::unavailable(plan, &error)
                }
            })
        }
        _ => {}
    }
}

/// The values a bound may take (docs/MODEL.md §1 validity), so probes stay meaningful.
pub(crate) fn bound_domain(source: ConstraintSource) -> (f64, f64) {
    use ConstraintSource as Source;
    const MAX: f64 = 1e15;
    match source {
        Source::BudgetCap
        | Source::PeriodBudgetCap(_)
        | Source::GroupMinSpend(_)
        | Source::GroupMaxSpend(_)
        | Source::MinRoi
        | Source::DriverMinUnits(..)
        | Source::DriverMaxUnits(..) => (0.0, MAX),
        Source::MinMargin | Source::PeriodMinMargin(_) => (-1.0, 1.0 - 1e-9),
        Source::GroupMinShare(_) | Source::GroupMaxShare(_) => (0.0, 1.0),
        Source::MinContribution | Source::RevenueTarget | Source::Link(..) => (-MAX, MAX),
    }
}

#[cfg(test)]
mod tests;
