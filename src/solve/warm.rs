//! Warm re-solves for shadow prices: the priced linear program built directly in
//! microlp with each binding bound held in a variable, so that moving a bound is a
//! `fix_var` on the solved problem (a few dual simplex pivots) instead of a solve
//! from scratch.

use std::collections::BTreeMap;

use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem, Solution, Variable};

use super::first_objective;
use crate::model::{Objective, Sense};
use crate::program::{Measure, Program};

/// How far a held bound may move in a warm re-solve: the variable's own bounds.
pub(crate) struct Held {
    var: Variable,
    /// The value the variable takes at the plan's bound.
    at_bound: f64,
    /// The range of offsets (in the variable's units) a warm re-solve may reach.
    lowest: f64,
    highest: f64,
    /// Offsets in the bound's units are multiplied by this (1 for a linear bound;
    /// the denominator at the plan for a ratio bound).
    per_unit: f64,
}

/// The solved priced program, ready for warm re-solves.
pub(crate) struct WarmStart {
    solution: Solution,
    /// The program's variables in the microlp problem.
    vars: Vec<Variable>,
    /// By constraint index: ordered, so the warm start fixes its held variables in
    /// the same order on every run (a hash order made the start's vertex, and with
    /// it the round-off of every warm probe, differ from run to run).
    held: BTreeMap<usize, Held>,
    constant: f64,
}

impl WarmStart {
    /// Builds and solves the priced program with the named constraints in `binding`
    /// held in variables that may move `reach` (in bound units, per side) around
    /// their bounds, each first solved free and then fixed back at its bound. `None`
    /// when microlp cannot (then prices fall back to cold re-solves).
    pub(crate) fn new(
        program: &Program,
        objective: Objective,
        binding: &[(usize, f64, f64)],
        denominators: &[f64],
    ) -> Option<WarmStart> {
        let (maximise, expr) = first_objective(objective, program);
        let direction = if maximise {
            OptimizationDirection::Maximize
        } else {
            OptimizationDirection::Minimize
        };
        let mut problem = Problem::new(direction);
        let mut coefficients = vec![0.0; program.vars.len()];
        for &(var, coefficient) in &expr.terms {
            if let Some(slot) = coefficients.get_mut(var) {
                *slot += coefficient;
            }
        }
        let vars: Vec<Variable> = program
            .vars
            .iter()
            .zip(&coefficients)
            .map(|(var, &coefficient)| problem.add_var(coefficient, (var.lower, var.upper)))
            .collect();
        let mut held = BTreeMap::new();
        let mut held_by_row = BTreeMap::new();
        for &(index, lowest, highest) in binding {
            let named = program.named.get(index)?;
            let (at_bound, per_unit) = match named.measure {
                Measure::Linear(_) => (named.bound, 1.0),
                Measure::Ratio { .. } => (0.0, *denominators.get(index)?),
            };
            let (low, high) = (at_bound + lowest * per_unit, at_bound + highest * per_unit);
            let (low, high) = (low.min(high), low.max(high));
            let var = problem.add_var(0.0, (low, high));
            held_by_row.insert(named.row, (var, named.bound));
            held.insert(
                index,
                Held {
                    var,
                    at_bound,
                    lowest: low,
                    highest: high,
                    per_unit,
                },
            );
        }
        for (index, row) in program.rows.iter().enumerate() {
            let mut terms: Vec<(Variable, f64)> = row
                .expr
                .terms
                .iter()
                .filter_map(|&(var, coefficient)| Some((*vars.get(var)?, coefficient)))
                .collect();
            let mut rhs = row.rhs;
            if let Some(&(var, bound)) = held_by_row.get(&index) {
                // expr (sense) rhs, where rhs = bound - constant for a linear row and
                // 0 for a ratio row: move the held part into the variable.
                let is_linear = program
                    .named
                    .iter()
                    .any(|named| named.row == index && matches!(named.measure, Measure::Linear(_)));
                if is_linear {
                    rhs -= bound;
                }
                terms.push((var, -1.0));
            }
            let largest = terms.iter().map(|(_, c)| c.abs()).fold(0.0, f64::max);
            let factor = if largest > 0.0 { 1.0 / largest } else { 1.0 };
            let expr: LinearExpr = terms
                .into_iter()
                .map(|(var, c)| (var, c * factor))
                .collect();
            let op = match row.sense {
                Sense::LessEqual => ComparisonOp::Le,
                Sense::GreaterEqual => ComparisonOp::Ge,
                Sense::Equal => ComparisonOp::Eq,
            };
            problem.add_constraint(expr, op, rhs * factor);
        }
        let solution = unless_panicked(|| {
            let mut solution = problem.solve().ok()?.into_solution().ok()?;
            for held in held.values() {
                solution = solution
                    .fix_var(held.var, held.at_bound)
                    .ok()?
                    .into_solution()
                    .ok()?;
            }
            Some(solution)
        })?;
        Some(WarmStart {
            solution,
            vars,
            held,
            constant: expr.constant,
        })
    }

    /// The first objective at the plan's bounds.
    pub(crate) fn optimum(&self) -> f64 {
        self.solution.objective() + self.constant
    }

    /// The program's variable values at the plan's bounds.
    pub(crate) fn values(&self) -> Vec<f64> {
        self.vars
            .iter()
            .map(|&var| self.solution.var_value(var))
            .collect()
    }

    /// Like [`WarmStart::value_at`], with the program's variable values there.
    pub(crate) fn solution_at(&self, index: usize, offset: f64) -> Option<Option<(f64, Vec<f64>)>> {
        let held = self.held.get(&index)?;
        let target = held.at_bound + offset * held.per_unit;
        if !(held.lowest..=held.highest).contains(&target) {
            return None;
        }
        unless_panicked(|| match self.solution.clone().fix_var(held.var, target) {
            Ok(outcome) => {
                let solution = outcome.into_solution().ok()?;
                let values = self
                    .vars
                    .iter()
                    .map(|&var| solution.var_value(var))
                    .collect();
                Some(Some((solution.objective() + self.constant, values)))
            }
            Err(microlp::Error::Infeasible | microlp::Error::Unbounded) => Some(None),
            Err(_) => None,
        })
    }

    /// The optimum with constraint `index` moved by `offset` (bound units):
    /// `Some(Some(value))`, `Some(None)` when infeasible or unbounded, `None` when
    /// this start cannot tell (not held, out of reach, or microlp failed).
    pub(crate) fn value_at(&self, index: usize, offset: f64) -> Option<Option<f64>> {
        let held = self.held.get(&index)?;
        let target = held.at_bound + offset * held.per_unit;
        if !(held.lowest..=held.highest).contains(&target) {
            return None;
        }
        unless_panicked(|| match self.solution.clone().fix_var(held.var, target) {
            Ok(outcome) => Some(Some(
                outcome.into_solution().ok()?.objective() + self.constant,
            )),
            Err(microlp::Error::Infeasible | microlp::Error::Unbounded) => Some(None),
            Err(_) => None,
        })
    }
}

/// `call`'s answer, or `None` ("this start cannot tell") when microlp panicked in
/// it: microlp asserts on some ill-conditioned programs, and a price the warm start
/// cannot give falls back to cold re-solves, which turn a panic into an error.
fn unless_panicked<T>(call: impl FnOnce() -> Option<T>) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
        .ok()
        .flatten()
}
