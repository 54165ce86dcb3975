//! A plan solved and explained: the report both faces return (docs/MODEL.md §3).
//!
//! `solve` finds the plan, `explain` says why; this layer composes the two into a
//! [`PlanReport`], and scores an allocation a user already has against the
//! optimum ([`evaluate`]).

mod evaluate;
mod report;

pub use evaluate::{evaluate, Allocation, DriverGap, Evaluation, Violation};
pub use report::{
    ConstraintReport, DriverPeriodReport, DriverReport, PlanReport, SolverStats, Totals,
};

use std::time::{Duration, Instant};

use crate::explain::{explain, Explanation};
use crate::model::Plan;
use crate::solve::{build_program, solve_program_with, Bases, SolveError, SolveOptions};

/// Explanations may take this many times the solve's own time ...
pub const EXPLAIN_BUDGET_FACTOR: u32 = 10;
/// ... and at least this long: a 1,368-variable realistic plan, solved in
/// 15 ms, needed 2.2 s of re-solves to price its last 72 binding constraints
/// (price ranges running to 67 million units, bisected), and 2 s left seven
/// of them unpriced.
pub const MIN_EXPLAIN_BUDGET: Duration = Duration::from_secs(5);

/// Solves a validated plan and reports allocation, totals and constraints.
pub fn solve(plan: &Plan, options: &SolveOptions) -> Result<PlanReport, SolveError> {
    solve_with(plan, options, None)
}

/// [`solve`], trying the optimal bases kept in `bases` first (the earlier solves
/// of a scenario batch) and keeping this solve's there.
pub fn solve_with(
    plan: &Plan,
    options: &SolveOptions,
    bases: Option<&Bases>,
) -> Result<PlanReport, SolveError> {
    let started = Instant::now();
    let program = build_program(plan, options.solver)?;
    tracing::debug!(
        variables = program.vars.len(),
        rows = program.rows.len(),
        backend = program.backend.name(),
        elapsed = ?started.elapsed(),
        "program built"
    );
    let solution = solve_program_with(plan, &program, options, bases)?;
    let mut report = PlanReport::new(plan, &program, &solution, started.elapsed());
    if options.explain {
        // Explanations get a budget proportional to the solve itself, and never
        // more than what is left of the time limit.
        let budget = (started.elapsed() * EXPLAIN_BUDGET_FACTOR).max(MIN_EXPLAIN_BUDGET);
        let time_limit = match options.time_limit {
            Some(limit) => limit.saturating_sub(started.elapsed()).min(budget),
            None => budget,
        };
        let funded: Vec<bool> = report
            .drivers
            .iter()
            .map(|driver| driver.units > 1e-7)
            .collect();
        report.add(explain(
            plan,
            &program,
            &solution,
            &funded,
            Some(time_limit),
        ));
    }
    report.solver.elapsed = started.elapsed();
    Ok(report)
}

impl PlanReport {
    /// Adds `explanation` to the report: each constraint's price (or why it has
    /// none), each driver's break-even scale, the diagnosis.
    fn add(&mut self, explanation: Explanation) {
        self.prices_with_integers_fixed = explanation.prices_with_integers_fixed;
        for (constraint, price) in self.constraints.iter_mut().zip(explanation.prices) {
            match price {
                Ok(price) => constraint.price = Some(price),
                Err(reason) => constraint.unpriced_reason = Some(reason),
            }
        }
        if let Some(scales) = explanation.break_even_scales {
            for (driver, scale) in self.drivers.iter_mut().zip(scales) {
                driver.break_even_scale = scale;
            }
        }
        self.diagnosis = explanation.diagnosis;
    }
}
