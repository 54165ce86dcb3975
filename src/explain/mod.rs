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
mod prices;

pub use diagnosis::{diagnose, Diagnosis, Relaxation};
pub use drivers::{break_even_scales, MAX_DRIVERS_FOR_BREAK_EVEN};
pub use prices::{rate_ahead, shadow_prices, ShadowPrice};

use std::time::{Duration, Instant};

use crate::model::Plan;
use crate::program::Program;
use crate::solve::{first_objective, first_optimum, Optimum, ProgramSolution, SolveError, Status};

/// What explanations add to a solved plan (docs/MODEL.md §3). The report is
/// composed above this layer ([`crate::analysis`]); here only the answers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Explanation {
    /// Whether the prices are those of the program with its whole units fixed.
    pub prices_with_integers_fixed: bool,
    /// Per named constraint, in the program's order: its price, or why it has
    /// none. Empty when no plan was priced.
    pub prices: Vec<Result<ShadowPrice, String>>,
    /// Per driver, in the plan's order, the break-even scale of its rates, when
    /// they were computed.
    pub break_even_scales: Option<Vec<Option<f64>>>,
    /// Why an infeasible plan is infeasible, and what to relax.
    pub diagnosis: Option<Diagnosis>,
}

/// Explains `solution` of `program`: shadow prices when a plan was found (and
/// break-even scales of the drivers, `funded` saying which have units), a
/// diagnosis when the plan is infeasible. An explanation that cannot finish within
/// `time_limit` is left out (and logged); the result itself stands.
pub fn explain(
    plan: &Plan,
    program: &Program,
    solution: &ProgramSolution,
    funded: &[bool],
    time_limit: Option<Duration>,
) -> Explanation {
    let mut explanation = Explanation::default();
    let deadline = time_limit.map(|limit| Instant::now() + limit);
    match (&solution.values, solution.status) {
        (Some(values), Status::Optimal | Status::TimeLimit) => {
            let fixed;
            let priced = if program.is_mixed_integer() {
                fixed = program.with_integers_fixed(values);
                explanation.prices_with_integers_fixed = true;
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
            explanation.prices = match prices {
                Ok(prices) => prices,
                Err(error) => {
                    tracing::warn!(%error, "no shadow prices");
                    vec![Err(error.to_string()); program.named.len()]
                }
            };
            if plan.drivers.len() <= MAX_DRIVERS_FOR_BREAK_EVEN
                && solution.status == Status::Optimal
            {
                match break_even_scales(plan, funded, program.backend, deadline) {
                    Ok(scales) => explanation.break_even_scales = Some(scales),
                    Err(error) => tracing::warn!(%error, "no break-even scales"),
                }
            }
        }
        (None, Status::Infeasible) => {
            explanation.diagnosis = Some(match diagnose(plan, program, time_limit) {
                Ok(diagnosis) => diagnosis,
                Err(error) => {
                    tracing::warn!(%error, "no diagnosis");
                    Diagnosis::unavailable(plan, &error)
                }
            })
        }
        _ => {}
    }
    explanation
}

#[cfg(test)]
mod tests;
