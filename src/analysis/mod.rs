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

use std::collections::HashSet;

use crate::explain::{explain, Explanation};
use crate::model::Plan;
use crate::program::{Program, Row, VarId};
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
        report.name_what_moves(plan, &program);
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

    /// For a re-plan, names beside each unlocked driver-period that moves the
    /// binding constraints that move it (docs/MODEL.md §6): those priced nonzero
    /// on either side whose rows hold the driver (its units, or the money its
    /// moves count against `replan.max_change`).
    fn name_what_moves(&mut self, plan: &Plan, program: &Program) {
        let Some(replan) = &plan.replan else {
            return;
        };
        let priced: Vec<(&str, &Row)> = self
            .constraints
            .iter()
            .zip(program.named.iter())
            .filter(|(constraint, _)| {
                constraint.price.is_some_and(|price| {
                    [price.up, price.down]
                        .into_iter()
                        .flatten()
                        .any(|rate| rate.abs() > MOVED_BY_RATE)
                })
            })
            .filter_map(|(constraint, named)| {
                Some((constraint.name.as_str(), program.rows.get(named.row)?))
            })
            .collect();
        for (i, driver) in self.drivers.iter_mut().enumerate() {
            let mut held: HashSet<VarId> = program
                .units
                .get(i)
                .into_iter()
                .flatten()
                .chain(program.revenue.get(i).into_iter().flatten())
                .flat_map(|expr| expr.terms.iter().map(|&(var, _)| var))
                .collect();
            if let Some(moves) = program.replan.as_ref().and_then(|r| r.moves.get(i)) {
                held.extend(moves.iter().flatten().flat_map(|&(p, m)| [p, m]));
            }
            let names: Vec<String> = priced
                .iter()
                .filter(|(_, row)| row.expr.terms.iter().any(|(var, _)| held.contains(var)))
                .map(|(name, _)| (*name).to_string())
                .collect();
            for (t, period) in driver.periods.iter_mut().enumerate() {
                let moves = !replan.is_locked(t)
                    && period.change.abs() > MOVED * period.current.unwrap_or(0.0).abs().max(1.0);
                if moves {
                    period.moved_by = names.clone();
                }
            }
        }
    }
}

/// A change of units this small (relative to the plan in force) is round-off,
/// not a move.
const MOVED: f64 = 1e-9;
/// A price this small (per unit of bound) is none: the constraint moves nothing.
const MOVED_BY_RATE: f64 = 1e-9;
