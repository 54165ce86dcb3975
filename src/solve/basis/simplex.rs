//! An optimum reached by simplex pivots from a kept basis, for a program that is
//! a near variant of the one the basis is optimal for: a scenario of a batch
//! (bounds, right-hand sides and coefficients moved) from the base plan's or an
//! earlier scenario's optimal basis, and a later lexicographic level from the
//! level before it on its optimal face.
//!
//! A basis whose duals still hold (only bounds and right-hand sides moved) is
//! brought back to a feasible plan by dual simplex pivots; one whose plan is
//! still feasible (the objective moved) by primal ones. The pivots only find a
//! basis: the optimum is then read off that basis afresh and certified by
//! [`vertex_at`] — values from one factorisation, every row and bound checked,
//! no reduced cost of the wrong sign — so an unlucky pivot costs time, never a
//! wrong answer. Anything unclear (neither primal nor dual feasible, a pivot
//! too small, too many pivots) gives up, and the caller asks the engine.

use super::vertex::certified;
use super::walk::{enters, Slot, State, Status};
use super::{vertex_at, Basis, BasisShape, Column, Vertex};
use crate::program::{LinExpr, Program};

/// Most pivots taken from a kept basis before the engine is asked instead: a
/// near variant needs a few; a far one is cheaper to solve from scratch.
const MAX_PIVOTS: usize = 60;

/// Most pivots [`solve_from_bounds`] takes: each keeps a basis change of up to
/// one entry per row, so this bounds its memory (16 MB at the row limit below).
const MAX_PIVOTS_FROM_BOUNDS: usize = 1_000;
/// The most rows [`solve_from_bounds`] takes on.
const MAX_ROWS_FROM_BOUNDS: usize = 1_000;

/// A basic value counts as within its bounds up to this (relative) distance.
const PRIMAL: f64 = 1e-9;

/// The optimum of `max expr` (`min` unless `maximise`) over `program` from the
/// basis `shape`: read off it when it is still optimal, otherwise after simplex
/// pivots from it. Returns the certified vertex, the shape of its basis (to
/// keep for the next variant) and the pivots taken; `None` when that does not
/// succeed. One factorisation when the kept basis is still optimal (it is
/// certified as it stands), two after pivots: the kept basis, and the one
/// found, factorised afresh and certified by [`vertex_at`].
pub(crate) fn optimum_from(
    program: &Program,
    maximise: bool,
    expr: &LinExpr,
    shape: &BasisShape,
) -> Option<(Vertex, BasisShape, usize)> {
    let on_bounds = shape.on_bounds(program)?;
    let basis = Basis::with_shape(program, maximise, expr, &on_bounds, shape)?;
    let (Pivoted::Optimal(pivots), found) = pivots_at(&basis, &on_bounds, MAX_PIVOTS) else {
        return None;
    };
    // Still optimal as it was (most later levels on their optimal face): the
    // basis just factorised is the one to certify.
    let vertex = if pivots == 0 {
        certified(basis, &on_bounds)?
    } else {
        vertex_at(program, maximise, expr, &found)?
    };
    Some((vertex, found, pivots))
}

/// Simplex pivots (at most `budget`) from the basis `shape` on `program`: how
/// they ended, and the shape of the basis they ended at. `None` when the shape
/// does not factorise on `program`.
fn pivots_from(
    program: &Program,
    maximise: bool,
    expr: &LinExpr,
    shape: &BasisShape,
    budget: usize,
) -> Option<(Pivoted, BasisShape)> {
    let values = shape.on_bounds(program)?;
    let basis = Basis::with_shape(program, maximise, expr, &values, shape)?;
    Some(pivots_at(&basis, &values, budget))
}

/// Simplex pivots (at most `budget`) from the factorised `basis`, its
/// nonbasic variables at `values`: how they ended, and the shape of the basis
/// they ended at.
fn pivots_at(basis: &Basis<'_>, values: &[f64], budget: usize) -> (Pivoted, BasisShape) {
    let program = basis.program;
    let mut basic_values = values.to_vec();
    for (var, value) in basis.free_values(values) {
        basic_values[var] = value;
    }
    let activity: Vec<f64> = program
        .rows
        .iter()
        .map(|row| row.expr.eval(&basic_values))
        .collect();
    let mut state = State::at(basis, &basic_values, &activity);
    let pivoted = state.pivot_within(budget);
    (pivoted, state.shape())
}

/// How the pivots from a basis ended.
enum Pivoted {
    /// Primal and dual feasible after this many pivots.
    Optimal(usize),
    /// A row that no variable within its bounds can satisfy: no plan exists.
    Infeasible,
    /// Too many pivots, a pivot too small, or a basis neither primal nor dual
    /// feasible after the cost shifts.
    GaveUp,
}

/// How one dual pivot ended.
enum DualPivot {
    Pivoted,
    /// Nothing can enter, and the leaving row is proven out of reach.
    Infeasible,
    Failed,
}

/// What the project's own simplex says of a linear program.
pub(crate) enum Solved {
    /// A certified optimal vertex (every row and bound within 1e-12, an optimal
    /// basis).
    Optimal(Vec<f64>),
    /// No plan meets every row and bound: a row of the basis inverse shows one
    /// that stays out of reach by more than the primal tolerance (1e-9 of its
    /// size) and round-off.
    Infeasible,
}

/// `max expr` (`min` unless `maximise`) over `program` by the project's own
/// simplex from the basis of every variable on a finite bound and every row's
/// logical basic (cost shifts make it dual feasible, dual pivots find a plan,
/// primal pivots the optimum): the last resort when every start of the engine
/// failed. `None` when it gives up too (a free variable, too many pivots, a
/// pivot too small).
pub(crate) fn solve_from_bounds(
    program: &Program,
    maximise: bool,
    expr: &LinExpr,
) -> Option<Solved> {
    // Dense vectors per pivot (and one kept per basis change): bounded memory
    // and time, for the plans microlp meets trouble on (hundreds of rows).
    if program.rows.len() > MAX_ROWS_FROM_BOUNDS {
        return None;
    }
    let columns = program
        .vars
        .iter()
        .map(|var| {
            if var.lower == var.upper {
                Some(Column::Fixed)
            } else if var.lower.is_finite() {
                Some(Column::Lower)
            } else if var.upper.is_finite() {
                Some(Column::Upper)
            } else {
                None
            }
        })
        .collect::<Option<Vec<Column>>>()?;
    let shape = BasisShape {
        columns,
        tight: Vec::new(),
        structure: super::structure(program),
    };
    let budget = (2 * (program.rows.len() + program.vars.len())).min(MAX_PIVOTS_FROM_BOUNDS);
    match pivots_from(program, maximise, expr, &shape, budget)? {
        (Pivoted::Optimal(_), found) => {
            let vertex = vertex_at(program, maximise, expr, &found)?;
            Some(Solved::Optimal(vertex.values))
        }
        (Pivoted::Infeasible, _) => Some(Solved::Infeasible),
        (Pivoted::GaveUp, _) => None,
    }
}

impl State<'_, '_> {
    /// Simplex pivots until the basis is primal and dual feasible: dual pivots
    /// while the duals hold, primal ones while the plan does. At most `budget`
    /// pivots; a proven infeasible program is told apart from giving up (the
    /// basis neither primal nor dual feasible, a pivot failed, too many).
    ///
    /// A basis that is neither (a scenario that moves returns and bounds at
    /// once) gets its mispriced variables' costs shifted until their reduced
    /// costs are zero, dual pivots restore the plan under those costs, and the
    /// shifts are dropped for primal pivots to finish.
    fn pivot_within(&mut self, budget: usize) -> Pivoted {
        let mut shifted = false;
        let mut pivots = 0;
        while pivots <= budget {
            let size = self.reprice();
            let mispriced = self.mispriced(&size);
            let infeasible = self.most_infeasible();
            let pivoted = match (mispriced, infeasible) {
                (None, None) if self.cost_shift.is_empty() => return Pivoted::Optimal(pivots),
                (None, None) => {
                    self.cost_shift.clear();
                    continue;
                }
                (None, Some(leaving)) => match self.dual_pivot(leaving) {
                    DualPivot::Pivoted => true,
                    DualPivot::Infeasible => return Pivoted::Infeasible,
                    DualPivot::Failed => false,
                },
                (Some(entering), None) => self.primal_pivot(entering),
                (Some(_), Some(_)) if !shifted => {
                    shifted = true;
                    self.shift_mispriced_costs(&size);
                    continue;
                }
                (Some(_), Some(_)) => false,
            };
            if !pivoted {
                return Pivoted::GaveUp;
            }
            pivots += 1;
        }
        Pivoted::GaveUp
    }

    /// Shifts the cost of every variable and logical whose reduced cost has the
    /// wrong sign so that it is zero.
    fn shift_mispriced_costs(&mut self, size: &[f64]) {
        let basis = self.basis;
        let n = self.var_status.len();
        let mut shift = vec![0.0; n + self.row_status.len()];
        for (var, status) in self.var_status.iter().enumerate() {
            let d = self.reduced[var];
            let tolerance = super::DUAL * size[var] + 1e-12 * basis.cost_scale;
            if (*status == Status::Lower && d > tolerance)
                || (*status == Status::Upper && d < -tolerance)
            {
                shift[var] = -d;
            }
        }
        for (row, status) in self.row_status.iter().enumerate() {
            let d = self.duals[row];
            let tolerance = super::DUAL * basis.dual_scale(row);
            if (*status == Status::Upper && d < -tolerance)
                || (*status == Status::Lower && d > tolerance)
            {
                shift[n + row] = -d;
            }
        }
        self.cost_shift = shift;
    }

    /// The basic variable furthest outside its bounds (relative to the bound),
    /// with whether it is above its upper bound.
    fn most_infeasible(&self) -> Option<(usize, bool)> {
        let mut worst: Option<(usize, bool, f64)> = None;
        for (position, (&slot, &x)) in self.basic.iter().zip(&self.value).enumerate() {
            let (lower, upper) = self.bounds(slot);
            let (excess, above, bound) = if x > upper {
                (x - upper, true, upper)
            } else if x < lower {
                (lower - x, false, lower)
            } else {
                continue;
            };
            let relative = excess / bound.abs().max(1.0);
            if relative > PRIMAL && worst.is_none_or(|(.., largest)| relative > largest) {
                worst = Some((position, above, relative));
            }
        }
        worst.map(|(position, above, _)| (position, above))
    }

    /// A dual simplex pivot: the basic variable at `position` leaves onto the
    /// bound it is past (its upper one when `above`); the entering one is the
    /// nonbasic variable whose reduced cost reaches zero first as the duals
    /// move (so every other keeps its sign), and the plan moves so that the
    /// leaving one lands on its bound.
    fn dual_pivot(&mut self, (position, above): (usize, bool)) -> DualPivot {
        let basis = self.basis;
        let rho = self.inverse_row(position);
        let rho_scale = basis.rho_scale(&rho);
        let mut best: Option<(Slot, f64, f64)> = None;
        let mut consider = |slot: Slot, d: f64, alpha: f64, size: f64, upper: bool| {
            if !enters(alpha, size, upper, above) {
                return;
            }
            let ratio = (d / alpha).abs();
            if best.is_none_or(|(_, best_ratio, best_alpha)| {
                ratio < best_ratio || (ratio == best_ratio && alpha.abs() > best_alpha)
            }) {
                best = Some((slot, ratio, alpha.abs()));
            }
        };
        for (var, status) in self.var_status.iter().enumerate() {
            let upper = match status {
                Status::Lower => false,
                Status::Upper => true,
                _ => continue,
            };
            let (mut alpha, mut size) = (0.0, 0.0);
            for &(row, coefficient) in &basis.by_column[var] {
                alpha += rho[row] * coefficient;
                size += (rho[row] * coefficient).abs();
            }
            consider(Slot::Var(var), self.reduced[var], alpha, size, upper);
        }
        for (row, status) in self.row_status.iter().enumerate() {
            let upper = match status {
                Status::Lower => false,
                Status::Upper => true,
                _ => continue,
            };
            consider(
                Slot::Logical(row),
                self.logical_reduced(row),
                -rho[row],
                rho_scale / basis.row_largest[row],
                upper,
            );
        }
        let Some((entering, ..)) = best else {
            // Nothing can enter: no plan meets the bounds, if even every
            // variable whose pivot-row entry was too small to enter, moved
            // across its whole range, cannot bring the leaving one back.
            return if self.cannot_reach(position, above, &rho) {
                DualPivot::Infeasible
            } else {
                DualPivot::Failed
            };
        };
        let w = self.ftran(&self.column(entering));
        let leaving = self.basic[position];
        let (lower, upper) = self.bounds(leaving);
        let target = if above { upper } else { lower };
        let Some(&pivot) = w.get(position) else {
            return DualPivot::Failed;
        };
        if pivot == 0.0 {
            return DualPivot::Failed;
        }
        // The entering variable moves by `step`; the basic ones by -step * w.
        let step = (self.value[position] - target) / pivot;
        let entering_value = self.nonbasic_value(entering) + step;
        self.move_plan(step, &w);
        if !self.pivot(position, entering, &w, above) {
            return DualPivot::Failed;
        }
        self.value[position] = entering_value;
        self.settle_fixed(leaving);
        DualPivot::Pivoted
    }

    /// Whether the basic variable at `position`, past its upper bound when
    /// `above` (else below its lower one), stays past it by more than the
    /// primal tolerance whatever the nonbasic variables do within their
    /// bounds (`rho`: its row of the basis inverse) — a proof that no plan
    /// meets every row and bound.
    fn cannot_reach(&self, position: usize, above: bool, rho: &[f64]) -> bool {
        let basis = self.basis;
        let (lower, upper) = self.bounds(self.basic[position]);
        // Its value afresh from the nonbasic ones (not the value the pivots
        // carried along): B z_B + N z_N = 0, so z_p = -sum(alpha_j z_j).
        let mut value = 0.0;
        // How far the nonbasic variables can move it back, at most. An entry
        // within round-off of zero (1e-12 of the sum it is computed from; real
        // entries are far larger, round-off far smaller) is zero.
        let mut reach = 0.0;
        // The size of the sum the value is computed from: its round-off.
        let mut magnitude = 0.0;
        let mut add = |alpha: f64, size: f64, status: Status, at: f64, (low, high): (f64, f64)| {
            if status == Status::Basic {
                return;
            }
            value -= alpha * at;
            magnitude += (alpha * at).abs();
            if alpha.abs() <= 1e-12 * size {
                return;
            }
            // Moving the variable by d moves the leaving one by -alpha d.
            let helps = match status {
                Status::Lower => (above && alpha > 0.0) || (!above && alpha < 0.0),
                Status::Upper => (above && alpha < 0.0) || (!above && alpha > 0.0),
                _ => false,
            };
            if helps {
                reach += alpha.abs() * (high - low);
            }
        };
        for (var, &status) in self.var_status.iter().enumerate() {
            let (mut alpha, mut size) = (0.0, 0.0);
            for &(row, coefficient) in &basis.by_column[var] {
                alpha += rho[row] * coefficient;
                size += (rho[row] * coefficient).abs();
            }
            let slot = Slot::Var(var);
            let at = if status == Status::Basic {
                0.0
            } else {
                self.nonbasic_value(slot)
            };
            add(alpha, size, status, at, self.bounds(slot));
        }
        let rho_scale = basis.rho_scale(rho);
        for (row, &status) in self.row_status.iter().enumerate() {
            let slot = Slot::Logical(row);
            let at = if status == Status::Basic {
                0.0
            } else {
                self.nonbasic_value(slot)
            };
            add(
                -rho[row],
                rho_scale / basis.row_largest[row],
                status,
                at,
                self.bounds(slot),
            );
        }
        let (excess, bound) = if above {
            (value - upper, upper)
        } else {
            (lower - value, lower)
        };
        // Past it by more than the primal tolerance the pivots use, and by more
        // than round-off in the value: a proof. (1e-6 of the bound's size, as
        // before, let a row of units stay 4e-7 past its bound undecided: on
        // drivers costing 25,000 a unit that is a group spend floor of 0.01
        // that no plan meets, which the verification refuses in money.)
        let margin = (PRIMAL * bound.abs().max(1.0)).max(1e-12 * magnitude);
        value.is_finite() && reach.is_finite() && excess - reach > margin
    }

    /// A primal simplex pivot: `entering` (moving `way`, +1 up) increases the
    /// objective; it moves until a basic variable reaches a bound (which then
    /// leaves) or it reaches its own other bound (a bound flip, no basis
    /// change).
    fn primal_pivot(&mut self, (entering, way): (Slot, f64)) -> bool {
        let w = self.ftran(&self.column(entering));
        let (own_lower, own_upper) = self.bounds(entering);
        // The entering variable's own other bound stops it too (a bound flip),
        // first where a basic variable is no nearer.
        let own = own_upper - own_lower;
        let (distance, blocker) = match self.blocker(&w, way) {
            Some(blocker) if blocker.distance < own - 1e-12 => {
                (blocker.distance, Some((blocker.position, blocker.at_upper)))
            }
            _ => (own, None),
        };
        if !distance.is_finite() {
            // Unbounded along this edge; the engine says so properly.
            return false;
        }
        let step = way * distance;
        let entering_value = self.nonbasic_value(entering) + step;
        self.move_plan(step, &w);
        match blocker {
            None => {
                // A bound flip: the entering variable crosses to its other bound.
                let flipped = if way > 0.0 {
                    Status::Upper
                } else {
                    Status::Lower
                };
                match entering {
                    Slot::Var(var) => self.var_status[var] = flipped,
                    Slot::Logical(row) => self.row_status[row] = flipped,
                }
                true
            }
            Some((position, at_upper)) => {
                let leaving = self.basic[position];
                if !self.pivot(position, entering, &w, at_upper) {
                    return false;
                }
                self.value[position] = entering_value;
                self.settle_fixed(leaving);
                true
            }
        }
    }

    /// The basic values after the entering variable moved by `step`: each
    /// moves by `-step * w`.
    fn move_plan(&mut self, step: f64, w: &[f64]) {
        for (value, change) in self.value.iter_mut().zip(w) {
            *value -= step * change;
        }
    }

    /// A variable that left the basis with both bounds equal cannot move: it
    /// is fixed, whatever bound it left on (an equality row's logical has no
    /// sign for its dual).
    fn settle_fixed(&mut self, slot: Slot) {
        let (lower, upper) = self.bounds(slot);
        if lower == upper {
            match slot {
                Slot::Var(var) => self.var_status[var] = Status::Fixed,
                Slot::Logical(row) => self.row_status[row] = Status::Fixed,
            }
        }
    }

    /// The shape of the current basis: its basic variables free, the others
    /// on their bounds, the rows whose logicals are not basic tight.
    fn shape(&self) -> BasisShape {
        BasisShape {
            columns: self
                .var_status
                .iter()
                .map(|status| match status {
                    Status::Basic => Column::Free(0),
                    Status::Lower => Column::Lower,
                    Status::Upper => Column::Upper,
                    Status::Fixed => Column::Fixed,
                })
                .collect(),
            tight: self
                .row_status
                .iter()
                .enumerate()
                .filter(|(_, status)| **status != Status::Basic)
                .map(|(row, _)| row)
                .collect(),
            structure: super::structure(self.basis.program),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::worked_example;
    use crate::solve::basis::{exact_vertex, AT_BOUND};
    use crate::solve::{first_objective, optimize_expr, Optimum};

    /// The optimum of the first objective, solved by the engine.
    fn engine_optimum(program: &Program, maximise: bool, expr: &LinExpr) -> f64 {
        match optimize_expr(program, expr, maximise, None).expect("solves") {
            Optimum::Value(value, _) => value,
            other => panic!("not optimal: {other:?}"),
        }
    }

    /// The index of the budget cap among `program`'s named constraints.
    fn budget_cap(program: &Program) -> usize {
        program
            .named
            .iter()
            .position(|named| named.name == "budget_cap")
            .expect("a budget cap")
    }

    /// The shape of the engine's optimum of `program`.
    fn optimal_shape(program: &Program, maximise: bool, expr: &LinExpr) -> BasisShape {
        let Optimum::Value(_, values) =
            optimize_expr(program, expr, maximise, None).expect("solves")
        else {
            panic!("not optimal")
        };
        let vertex = exact_vertex(program, maximise, expr, &values).expect("a vertex");
        BasisShape::at(program, &vertex.values, AT_BOUND)
    }

    #[test]
    fn a_moved_budget_is_reached_by_dual_pivots_from_the_old_basis() {
        // The worked example at a margin floor of 0.2 spends its budget cap; the
        // cap at 30 % and 170 % of itself moves the optimum to other bases.
        let plan = worked_example(0.2);
        let program = crate::program::Program::build(&plan);
        let (maximise, expr) = first_objective(plan.objective, &program);
        let expr = expr.clone();
        let shape = optimal_shape(&program, maximise, &expr);
        let budget = budget_cap(&program);
        let mut pivoted = 0;
        for factor in [0.3, 0.6, 0.95, 1.05, 1.7] {
            let bound = program.named[budget].bound * factor;
            let moved = program.with_bound(budget, bound);
            let expected = engine_optimum(&moved, maximise, &expr);
            let (vertex, _, pivots) =
                optimum_from(&moved, maximise, &expr, &shape).expect("reached");
            let value = expr.eval(&vertex.values);
            assert!(
                (value - expected).abs() <= 1e-9 * expected.abs().max(1.0),
                "budget x{factor}: {value} against the engine's {expected}"
            );
            pivoted += pivots;
        }
        assert!(pivoted > 0, "some moved budget changes the basis");
    }

    #[test]
    fn from_every_variable_on_a_bound_the_optimum_or_a_proof_of_infeasibility() {
        // The engine's optimum of the worked example, at the margin floors of
        // both fixtures and with the budget cap at half, reached from scratch.
        for (floor, factor) in [(0.2, 1.0), (0.4, 1.0), (0.2, 0.5)] {
            let plan = worked_example(floor);
            let built = crate::program::Program::build(&plan);
            let budget = budget_cap(&built);
            let program = built.with_bound(budget, built.named[budget].bound * factor);
            let (maximise, expr) = first_objective(plan.objective, &program);
            let expected = engine_optimum(&program, maximise, expr);
            match solve_from_bounds(&program, maximise, expr) {
                Some(Solved::Optimal(values)) => {
                    let value = expr.eval(&values);
                    assert!(
                        (value - expected).abs() <= 1e-9 * expected.abs().max(1.0),
                        "floor {floor}, budget x{factor}: {value} against the engine's {expected}"
                    );
                }
                _ => panic!("floor {floor}, budget x{factor}: no optimum"),
            }
        }
        // A budget cap below zero: spend cannot be negative.
        let plan = worked_example(0.2);
        let built = crate::program::Program::build(&plan);
        let budget = budget_cap(&built);
        let program = built.with_bound(budget, -1.0);
        let (maximise, expr) = first_objective(plan.objective, &program);
        assert!(matches!(
            optimize_expr(&program, expr, maximise, None).expect("solves"),
            Optimum::Infeasible
        ));
        assert!(matches!(
            solve_from_bounds(&program, maximise, expr),
            Some(Solved::Infeasible)
        ));
    }

    #[test]
    fn a_later_objective_is_reached_by_primal_pivots_from_the_first_optimum() {
        // From revenue's optimal basis to the optimum of spend (minimised) over
        // the same program: the plan stays feasible, the duals do not.
        let plan = worked_example(0.2);
        let program = crate::program::Program::build(&plan);
        let (maximise, revenue) = first_objective(plan.objective, &program);
        let shape = optimal_shape(&program, maximise, &revenue.clone());
        let spend = program.levels.spend.clone();
        let expected = engine_optimum(&program, false, &spend);
        let (vertex, _, pivots) = optimum_from(&program, false, &spend, &shape).expect("reached");
        let value = spend.eval(&vertex.values);
        assert!(
            (value - expected).abs() <= 1e-9 * expected.abs().max(1.0),
            "{value} against the engine's {expected}"
        );
        assert!(pivots > 0);
    }
}
