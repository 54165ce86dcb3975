//! The HiGHS engine (cargo feature `highs`).
//!
//! The model is handed to HiGHS directly through the `highs` crate (the one good_lp
//! wraps) rather than through good_lp's solver adapter, for two things the adapter
//! cannot do: keep one model across the lexicographic stages, so that each later
//! stage (one more row, a new objective) starts from the earlier basis instead of
//! from scratch; and report the proven gap when an integer solve runs out of time.

use std::time::Duration;

use highs::{Col, HighsModelStatus, HighsSolutionStatus, Model, RowProblem, Sense as HighsSense};

use super::outcome::StageOutcome;
use super::{Direction, SolveError};
use crate::model::Sense;
use crate::program::{LinExpr, Program, Row};

/// One program's model in HiGHS, kept between stages.
pub(crate) struct HighsSession<'p> {
    program: &'p Program,
    /// The model as the last stage left it (with its basis), once built.
    model: Option<Model>,
    /// The hold rows the model carries beyond the program's own rows.
    holds: Vec<Row>,
    /// The model's column of every program variable.
    columns: Vec<Col>,
    /// The objective coefficient of every column in the model.
    costs: Vec<f64>,
}

impl<'p> HighsSession<'p> {
    pub(crate) fn new(program: &'p Program) -> Self {
        HighsSession {
            program,
            model: None,
            holds: Vec::new(),
            columns: Vec::new(),
            costs: Vec::new(),
        }
    }

    /// Solves the program with `holds` for `objective` in `direction`. When the
    /// holds extend those of the previous call, the model and its basis are reused.
    pub(crate) fn solve(
        &mut self,
        holds: &[Row],
        objective: &LinExpr,
        direction: Direction,
        time_limit: Option<Duration>,
    ) -> Result<StageOutcome, SolveError> {
        if time_limit.is_some_and(|limit| limit.is_zero()) {
            return Ok(StageOutcome::TimedOut);
        }
        let started = std::time::Instant::now();
        let costs = self.dense_costs(objective);
        // The model can go on when the new holds keep the old ones' rows (their
        // bounds may have been loosened) and perhaps add more.
        let reusable = holds.len() >= self.holds.len()
            && holds
                .iter()
                .zip(&self.holds)
                .all(|(new, old)| new.expr == old.expr && new.sense == old.sense);
        let warm = reusable && self.model.is_some();
        let mut model = match self.model.take() {
            Some(mut model) if reusable => {
                let first_hold = self.program.rows.len();
                for (index, (new, old)) in holds.iter().zip(&self.holds).enumerate() {
                    if new.rhs != old.rhs {
                        change_row_bounds(&mut model, first_hold + index, new)?;
                    }
                }
                for row in &holds[self.holds.len()..] {
                    add_row(&mut model, &self.columns, row)?;
                }
                for ((&column, &old), &new) in self.columns.iter().zip(&self.costs).zip(&costs) {
                    if old != new {
                        model.change_column_cost(column, new);
                    }
                }
                // The earlier basis is the head start of a linear program;
                // presolve would discard it. (Integer programs keep presolve: branch
                // and bound needs it more than any basis.)
                // The basis stays primal feasible (up to the new hold) while the
                // objective changes: the primal simplex goes on from it, where the
                // dual simplex would first have to repair dual feasibility.
                if !self.program.is_mixed_integer() {
                    set_option(&mut model, "presolve", "off")?;
                    set_option(&mut model, "simplex_strategy", PRIMAL_SIMPLEX)?;
                }
                model
            }
            _ => self.build(holds, &costs)?,
        };
        model.set_sense(match direction {
            Direction::Maximise => HighsSense::Maximise,
            Direction::Minimise => HighsSense::Minimise,
        });
        set_option(
            &mut model,
            "time_limit",
            time_limit.map_or(f64::INFINITY, |limit| limit.as_secs_f64()),
        )?;
        self.holds = holds.to_vec();
        self.costs = costs;

        let (outcome, model) = self.run(model, true)?;
        self.model = Some(model);
        tracing::debug!(
            warm,
            holds = holds.len(),
            outcome = outcome.name(),
            elapsed = ?started.elapsed(),
            "HiGHS stage"
        );
        Ok(outcome)
    }

    /// Runs HiGHS once and reads the outcome, handing the model back for reuse.
    /// `may_retry`: an answer of "unbounded or infeasible" may be asked again
    /// without presolve (once: the retry is not retried).
    fn run(&self, model: Model, may_retry: bool) -> Result<(StageOutcome, Model), SolveError> {
        let integer = self.program.is_mixed_integer();
        let solved = model
            .try_solve()
            .map_err(|status| SolveError::Backend(format!("HiGHS failed: {status:?}")))?;
        let status = solved.status();
        let feasible = solved.primal_solution_status() == HighsSolutionStatus::Feasible;
        let values = || -> Vec<f64> { solved.get_solution().columns().to_vec() };
        let outcome = match status {
            // An optimum HiGHS flags as slightly infeasible after unscaling is still
            // taken: the plan is verified against every row before it is reported.
            HighsModelStatus::Optimal => StageOutcome::Optimal(values()),
            HighsModelStatus::ModelEmpty if self.program.vars.is_empty() => {
                StageOutcome::Optimal(Vec::new())
            }
            HighsModelStatus::Infeasible => StageOutcome::Infeasible,
            HighsModelStatus::Unbounded => StageOutcome::Unbounded,
            HighsModelStatus::UnboundedOrInfeasible if may_retry => {
                // Presolve can tell only that one of the two holds; the simplex
                // without presolve tells which.
                let mut model = Model::from(solved);
                set_option(&mut model, "presolve", "off")?;
                let (outcome, mut model) = self.run(model, false)?;
                set_option(&mut model, "presolve", "choose")?;
                return Ok((outcome, model));
            }
            HighsModelStatus::UnboundedOrInfeasible => {
                // Branch and bound answers so without presolve too (the realistic
                // long run, seed 340828473279: asking again and again overflowed
                // the stack). A failure hands the stage to microlp, which tells.
                return Err(SolveError::Backend(
                    "HiGHS cannot tell whether the program is unbounded or infeasible".into(),
                ));
            }
            HighsModelStatus::ReachedTimeLimit
            | HighsModelStatus::ReachedInterrupt
            | HighsModelStatus::ReachedIterationLimit
            | HighsModelStatus::ReachedSolutionLimit
            | HighsModelStatus::ReachedMemoryLimit => {
                if integer && feasible {
                    StageOutcome::Feasible {
                        values: values(),
                        gap: solved.mip_gap(),
                    }
                } else {
                    StageOutcome::TimedOut
                }
            }
            other => {
                return Err(SolveError::Backend(format!(
                    "HiGHS ended with status {other:?}"
                )))
            }
        };
        Ok((outcome, Model::from(solved)))
    }

    /// A fresh model of the program, its `holds` and the objective `costs`.
    fn build(&mut self, holds: &[Row], costs: &[f64]) -> Result<Model, SolveError> {
        let mut problem = RowProblem::default();
        let columns: Vec<Col> = self
            .program
            .vars
            .iter()
            .zip(costs)
            .map(|(var, &cost)| {
                problem.add_column_with_integrality(cost, var.lower..=var.upper, var.integer)
            })
            .collect();
        for row in self.program.rows.iter().chain(holds) {
            let terms = merged_terms(&row.expr);
            let factors = terms
                .iter()
                .filter_map(|&(var, coefficient)| Some((*columns.get(var)?, coefficient)));
            let (lower, upper) = row_bounds(row);
            problem.add_row(lower..=upper, factors);
        }
        self.columns = columns;
        let mut model = problem
            .try_optimise(HighsSense::Maximise)
            .map_err(|status| {
                SolveError::Backend(format!("HiGHS refused the model: {status:?}"))
            })?;
        model.make_quiet();
        // An integer optimum is proven within a millionth (relative), not within
        // HiGHS's default 0.01 %: later stages hold it, and a sales plan's totals
        // are read to far fewer digits. Closing the gap to exactly 0 can take
        // branch and bound hours on knapsack-like plans for no visible difference.
        set_option(&mut model, "mip_rel_gap", MIP_RELATIVE_GAP)?;
        // Each request runs on one of the server's solver threads.
        set_option(&mut model, "threads", 1)?;
        Ok(model)
    }

    /// The objective as one coefficient per column.
    fn dense_costs(&self, objective: &LinExpr) -> Vec<f64> {
        let mut costs = vec![0.0; self.program.vars.len()];
        for &(var, coefficient) in &objective.terms {
            if let Some(cost) = costs.get_mut(var) {
                *cost += coefficient;
            }
        }
        costs
    }
}

/// A row's terms with repeated variables summed: HiGHS refuses duplicate entries.
fn merged_terms(expr: &LinExpr) -> Vec<(usize, f64)> {
    expr.clone().normalized().terms
}

fn add_row(model: &mut Model, columns: &[Col], row: &Row) -> Result<(), SolveError> {
    let factors: Vec<(Col, f64)> = merged_terms(&row.expr)
        .into_iter()
        .filter_map(|(var, coefficient)| Some((*columns.get(var)?, coefficient)))
        .collect();
    let (lower, upper) = row_bounds(row);
    model
        .try_add_row(lower..=upper, factors)
        .map(|_| ())
        .map_err(|status| SolveError::Backend(format!("HiGHS refused a hold row: {status:?}")))
}

/// The relative gap within which HiGHS's branch and bound calls an integer plan
/// optimal.
pub(crate) const MIP_RELATIVE_GAP: f64 = 1e-6;

/// HiGHS's `simplex_strategy` value for the primal simplex.
const PRIMAL_SIMPLEX: i32 = 4;

/// A row's lower and upper bounds as HiGHS takes them (infinite when absent).
fn row_bounds(row: &Row) -> (f64, f64) {
    match row.sense {
        Sense::LessEqual => (f64::NEG_INFINITY, row.rhs),
        Sense::GreaterEqual => (row.rhs, f64::INFINITY),
        Sense::Equal => (row.rhs, row.rhs),
    }
}

/// The bounds of `row`, the model's row `index`, set in place.
#[allow(unsafe_code)]
fn change_row_bounds(model: &mut Model, index: usize, row: &Row) -> Result<(), SolveError> {
    let (lower, upper) = row_bounds(row);
    let index = highs_sys::HighsInt::try_from(index)
        .map_err(|_| SolveError::Backend(format!("row {index} is beyond HiGHS's index range")))?;
    // SAFETY: the pointer is the live model `model` owns, borrowed mutably for the
    // call; `index` is a row of it (a hold added after the program's rows).
    let status =
        unsafe { highs_sys::Highs_changeRowBounds(model.as_mut_ptr(), index, lower, upper) };
    if status == highs_sys::kHighsStatusError {
        return Err(SolveError::Backend(format!(
            "HiGHS refused new bounds for row {index}"
        )));
    }
    Ok(())
}

fn set_option<V: highs::HighsOptionValue>(
    model: &mut Model,
    option: &str,
    value: V,
) -> Result<(), SolveError> {
    model
        .try_set_option(option, value)
        .map_err(|status| SolveError::Backend(format!("HiGHS refused option {option}: {status:?}")))
}
