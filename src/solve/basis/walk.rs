//! From a vertex's basis to an optimal one (degenerate primal pivots), and the
//! parametric walk of one bound along it (ratio tests, dual steps) that gives a
//! price's range.

use super::{Basis, Column, RowState, DUAL};
use crate::model::Sense;
use crate::program::Face;

/// Working space of a dual step, kept with the basis so that walks do not
/// allocate it per step: `alpha` and `alpha_size` are zero outside `touched`.
pub(super) struct Scratch {
    pub(super) alpha: Vec<f64>,
    pub(super) alpha_size: Vec<f64>,
    pub(super) touched: Vec<usize>,
    pub(super) rho_rows: Vec<usize>,
}

/// Whether a nonbasic variable (at its upper bound when `upper`) whose pivot row
/// entry is `alpha` (of round-off scale `size`) may replace a blocker that
/// reaches its upper bound (`at_upper`) or its lower one: it must push the
/// blocker back (down from an upper bound, up from a lower one).
pub(super) fn enters(alpha: f64, size: f64, upper: bool, at_upper: bool) -> bool {
    let epsilon = 1e-9 * f64::max(size, 1e-300);
    if at_upper {
        (!upper && alpha > epsilon) || (upper && alpha < -epsilon)
    } else {
        (!upper && alpha < -epsilon) || (upper && alpha > epsilon)
    }
}

/// Zeroes the entries of `alpha` and `alpha_size` that `touched` lists.
pub(super) fn clear(alpha: &mut [f64], alpha_size: &mut [f64], touched: &mut Vec<usize>) {
    for var in touched.drain(..) {
        alpha[var] = 0.0;
        alpha_size[var] = 0.0;
    }
}

/// A basic or nonbasic variable of the full basis.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Slot {
    Var(usize),
    Logical(usize),
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Status {
    Basic,
    Lower,
    Upper,
    /// Cannot move: both bounds equal.
    Fixed,
}

/// A basis change on top of the factorised basis (product form): position
/// `position` now holds a variable whose column, in the previous basis, is
/// `column` (entries other than `position`) with `pivot` at `position`.
#[derive(Clone)]
pub(super) struct Eta {
    pub(super) position: usize,
    pub(super) column: Vec<(usize, f64)>,
    pub(super) pivot: f64,
}

/// The basic variable that stops an entering one (the primal ratio test).
pub(super) struct Blocker {
    /// How far the entering variable moves until it does.
    pub(super) distance: f64,
    /// Its |w|: of two at the same distance, the larger pivot is the safer.
    pub(super) size: f64,
    /// Its position in the basis.
    pub(super) position: usize,
    /// Whether it reaches its upper bound (else its lower one).
    pub(super) at_upper: bool,
}

impl Blocker {
    /// Whether one at `distance` with pivot size `size` stops the entering
    /// variable first (within 1e-12; then the larger pivot).
    pub(super) fn beaten_by(&self, distance: f64, size: f64) -> bool {
        distance < self.distance - 1e-12 || (distance <= self.distance + 1e-12 && size > self.size)
    }
}

/// Most basis changes one side may take before it is left to re-solves.
pub(super) const MAX_STEPS: usize = 24;
/// Most degenerate pivots spent completing the basis before giving up.
pub(super) const MAX_REPAIRS: usize = 200;

/// A basis on top of the factorised one (product-form updates), with its duals,
/// and the parametric walk of one bound from it: the plan moves with the bound
/// until a basic variable reaches a bound; a dual simplex step then either
/// changes the rate (the range ends there) or, a tie, leaves it alone (walk on).
#[derive(Clone)]
pub(super) struct State<'b, 'a> {
    pub(super) basis: &'b Basis<'a>,
    /// The row whose bound is walked (none while the basis is completed).
    pub(super) row: usize,
    pub(super) direction: f64,
    /// How far the bound has moved (right-hand-side units).
    pub(super) moved: f64,
    pub(super) basic: Vec<Slot>,
    /// Values of the basic variables, by position.
    pub(super) value: Vec<f64>,
    pub(super) var_status: Vec<Status>,
    pub(super) row_status: Vec<Status>,
    /// Per row, for `max sign * objective`.
    pub(super) duals: Vec<f64>,
    /// Per variable: `c_j - a_j . y`.
    pub(super) reduced: Vec<f64>,
    pub(super) etas: Vec<Eta>,
    /// The nonbasic variables whose reduced cost is zero: the only ones a dual
    /// simplex step can bring in without moving the duals (a tie).
    pub(super) zero: Vec<Slot>,
    /// Added to the objective's coefficients, by variable and then by row's
    /// logical (empty: none): the simplex from a kept basis shifts the costs
    /// of mispriced variables so the basis is dual feasible while dual pivots
    /// restore the plan, then drops the shifts and finishes with primal pivots.
    pub(super) cost_shift: Vec<f64>,
}

impl<'b, 'a> State<'b, 'a> {
    /// The factorised basis completed into an optimal one: as it is when its
    /// duals are optimal, otherwise after degenerate primal simplex pivots at the
    /// vertex (Bland's rule). `None` when that does not succeed.
    pub(super) fn optimal(basis: &'b Basis<'a>) -> Option<Self> {
        let mut state = State::at(basis, basis.values, &basis.activity);
        for _ in 0..MAX_REPAIRS {
            let size = state.reprice();
            match state.mispriced(&size) {
                None => {
                    state.zero = state.dual_degenerate(&size);
                    return Some(state);
                }
                Some(entering) => {
                    if !state.degenerate_pivot(entering) {
                        return None;
                    }
                }
            }
        }
        None
    }

    /// The factorised basis as it is, its basic variables at `values` (by
    /// variable; a basic logical at its row's `activity`), nothing priced yet.
    pub(super) fn at(basis: &'b Basis<'a>, values: &[f64], activity: &[f64]) -> Self {
        let m = basis.program.rows.len();
        let mut basic: Vec<Slot> = (0..m).map(Slot::Logical).collect();
        let mut value = activity.to_vec();
        for (position, &pivot_row) in basis.pivots.iter().enumerate() {
            let var = basis.free[position];
            basic[pivot_row] = Slot::Var(var);
            value[pivot_row] = values[var];
        }
        let var_status = basis
            .columns
            .iter()
            .map(|column| match column {
                Column::Free(_) => Status::Basic,
                Column::Lower => Status::Lower,
                Column::Upper => Status::Upper,
                Column::Fixed => Status::Fixed,
            })
            .collect();
        let row_status = basis
            .rows
            .iter()
            .zip(&basis.program.rows)
            .map(|(state, program_row)| match (state, program_row.sense) {
                (RowState::Basic, _) => Status::Basic,
                (RowState::Pivot(_), Sense::LessEqual) => Status::Upper,
                (RowState::Pivot(_), Sense::GreaterEqual) => Status::Lower,
                (RowState::Pivot(_), Sense::Equal) => Status::Fixed,
            })
            .collect();
        State {
            basis,
            row: usize::MAX,
            direction: 0.0,
            moved: 0.0,
            basic,
            value,
            var_status,
            row_status,
            duals: Vec::new(),
            reduced: Vec::new(),
            etas: Vec::new(),
            zero: Vec::new(),
            cost_shift: Vec::new(),
        }
    }

    /// Duals `y = c_B B^{-1}` and reduced costs `c - A^T y` of the current
    /// basis; returns each reduced cost's round-off scale.
    pub(super) fn reprice(&mut self) -> Vec<f64> {
        let basis = self.basis;
        let program = basis.program;
        let shift = |index: usize| self.cost_shift.get(index).copied().unwrap_or(0.0);
        let n = basis.cost.len();
        let costs: Vec<f64> = self
            .basic
            .iter()
            .map(|slot| match *slot {
                Slot::Var(var) => basis.cost[var] + shift(var),
                Slot::Logical(row) => shift(n + row),
            })
            .collect();
        self.duals = self.btran(&costs);
        self.reduced = basis
            .cost
            .iter()
            .enumerate()
            .map(|(var, cost)| cost + shift(var))
            .collect();
        let mut size: Vec<f64> = basis.cost.iter().map(|c| c.abs()).collect();
        for (row, &dual) in self.duals.iter().enumerate() {
            if dual != 0.0 {
                for &(var, coefficient) in &program.rows[row].expr.terms {
                    self.reduced[var] -= coefficient * dual;
                    size[var] += (coefficient * dual).abs();
                }
            }
        }
        size
    }

    /// The reduced cost of `row`'s logical: its row's dual, plus any shift of
    /// its cost.
    pub(super) fn logical_reduced(&self, row: usize) -> f64 {
        let shift = self
            .cost_shift
            .get(self.basis.cost.len() + row)
            .copied()
            .unwrap_or(0.0);
        self.duals[row] + shift
    }

    /// The nonbasic variables (not fixed) whose reduced cost is zero up to
    /// round-off.
    pub(super) fn dual_degenerate(&self, size: &[f64]) -> Vec<Slot> {
        let basis = self.basis;
        let structurals = self
            .var_status
            .iter()
            .enumerate()
            .filter(|&(var, status)| {
                matches!(status, Status::Lower | Status::Upper)
                    && self.reduced[var].abs() <= DUAL * size[var] + 1e-12 * basis.cost_scale
            })
            .map(|(var, _)| Slot::Var(var));
        let logicals = self
            .row_status
            .iter()
            .enumerate()
            .filter(|&(row, status)| {
                matches!(status, Status::Lower | Status::Upper)
                    && self.duals[row].abs() <= DUAL * basis.dual_scale(row)
            })
            .map(|(row, _)| Slot::Logical(row));
        structurals.chain(logicals).collect()
    }

    /// Row `position` of the basis inverse, by row: `ρ = e_position^T B^{-1}`,
    /// what a dual simplex step at that position needs.
    pub(super) fn inverse_row(&self, position: usize) -> Vec<f64> {
        let mut unit = vec![0.0; self.basis.program.rows.len()];
        unit[position] = 1.0;
        self.btran(&unit)
    }

    /// Duals, reduced costs and the zero-reduced-cost set afresh (after the
    /// duals moved).
    pub(super) fn refresh(&mut self) {
        let size = self.reprice();
        self.zero = self.dual_degenerate(&size);
    }

    /// The optimal face this optimal basis proves: every nonbasic variable whose
    /// reduced cost is not zero stays at its bound, every nonbasic logical whose
    /// dual is not zero keeps its row tight (complementary slackness holds for
    /// every optimal solution against these optimal duals).
    pub(super) fn face(&self) -> Face {
        let zero: std::collections::HashSet<Slot> = self.zero.iter().copied().collect();
        let fixed = self
            .var_status
            .iter()
            .enumerate()
            .filter(|&(var, _)| !zero.contains(&Slot::Var(var)))
            .filter_map(|(var, status)| {
                let bounds = &self.basis.program.vars[var];
                match status {
                    Status::Lower => Some((var, bounds.lower)),
                    Status::Upper => Some((var, bounds.upper)),
                    Status::Basic | Status::Fixed => None,
                }
            })
            .collect();
        let tight = self
            .row_status
            .iter()
            .enumerate()
            .filter(|&(row, status)| {
                matches!(status, Status::Lower | Status::Upper)
                    && !zero.contains(&Slot::Logical(row))
            })
            .map(|(row, _)| row)
            .collect();
        Face {
            fixed,
            tight,
            single_point: self.zero.is_empty(),
        }
    }

    /// A tie at `blocker` (position, reaching its upper bound; `rho` its row of
    /// the basis inverse): a variable of
    /// zero reduced cost that can take its place, pivoted in without moving the
    /// duals. `Some(true)`: done; `Some(false)`: there is none, so a dual step
    /// here moves the duals; `None`: the pivot was too small to trust.
    pub(super) fn tie_step(
        &mut self,
        rho: &[f64],
        (position, at_upper): (usize, bool),
    ) -> Option<bool> {
        let basis = self.basis;
        let rho_scale = basis.rho_scale(rho);
        let mut best: Option<(usize, f64)> = None;
        for (index, &slot) in self.zero.iter().enumerate() {
            let (alpha, size, upper) = match slot {
                Slot::Var(var) => {
                    let (mut alpha, mut size) = (0.0, 0.0);
                    for &(row, coefficient) in &basis.by_column[var] {
                        alpha += rho[row] * coefficient;
                        size += (rho[row] * coefficient).abs();
                    }
                    (alpha, size, self.var_status[var] == Status::Upper)
                }
                Slot::Logical(row) => (
                    -rho[row],
                    rho_scale / basis.row_largest[row],
                    self.row_status[row] == Status::Upper,
                ),
            };
            if enters(alpha, size, upper, at_upper)
                && best.is_none_or(|(_, largest)| alpha.abs() > largest)
            {
                best = Some((index, alpha.abs()));
            }
        }
        let Some((index, _)) = best else {
            return Some(false);
        };
        let entering = self.zero[index];
        let leaving = self.basic[position];
        let w = self.ftran(&self.column(entering));
        if !self.pivot(position, entering, &w, at_upper) {
            tracing::trace!(
                row = self.row,
                ?entering,
                "undecided: a tie's pivot too small"
            );
            return None;
        }
        self.zero.swap_remove(index);
        self.zero.push(leaving);
        Some(true)
    }

    /// The first nonbasic variable (Bland's rule) whose reduced cost has the
    /// wrong sign for an optimum, with the way it would move (+1: up); `None` when
    /// the basis is optimal.
    pub(super) fn mispriced(&self, size: &[f64]) -> Option<(Slot, f64)> {
        let basis = self.basis;
        let structural = self
            .var_status
            .iter()
            .enumerate()
            .find_map(|(var, status)| {
                let d = self.reduced[var];
                let tolerance = DUAL * size[var] + 1e-12 * basis.cost_scale;
                match status {
                    Status::Lower if d > tolerance => Some((Slot::Var(var), 1.0)),
                    Status::Upper if d < -tolerance => Some((Slot::Var(var), -1.0)),
                    _ => None,
                }
            });
        structural.or_else(|| {
            self.row_status
                .iter()
                .enumerate()
                .find_map(|(row, status)| {
                    let dual = self.logical_reduced(row);
                    let tolerance = DUAL * basis.dual_scale(row);
                    match status {
                        // A logical's reduced cost is its row's dual.
                        Status::Upper if dual < -tolerance => Some((Slot::Logical(row), -1.0)),
                        Status::Lower if dual > tolerance => Some((Slot::Logical(row), 1.0)),
                        _ => None,
                    }
                })
        })
    }

    /// A primal simplex pivot bringing `entering` (moving `way`) into the basis,
    /// which must not move the plan (the vertex is optimal, so a mispriced
    /// variable is blocked at once). `false` when it would move, or nothing
    /// blocks it.
    pub(super) fn degenerate_pivot(&mut self, (entering, way): (Slot, f64)) -> bool {
        let w = self.ftran(&self.column(entering));
        let Some(Blocker {
            distance,
            position,
            at_upper,
            ..
        }) = self.blocker(&w, way)
        else {
            return false;
        };
        if distance > 1e-9 * self.value[position].abs().max(1.0) {
            return false;
        }
        self.pivot(position, entering, &w, at_upper)
    }

    /// The primal ratio test for an entering variable whose column in the
    /// current basis is `w`, moving `way` (+1: up): the basic variable that
    /// reaches a bound first (ties to the largest |w|), or `None` when none does.
    pub(super) fn blocker(&self, w: &[f64], way: f64) -> Option<Blocker> {
        let largest = w.iter().map(|w| w.abs()).fold(0.0, f64::max);
        let epsilon = 1e-9 * largest;
        let mut best: Option<Blocker> = None;
        for (position, &change) in w.iter().enumerate() {
            // The basic variables move by -way * w per unit the entering one moves.
            let motion = -way * change;
            if motion.abs() <= epsilon {
                continue;
            }
            let (lower, upper) = self.bounds(self.basic[position]);
            let x = self.value[position];
            let (distance, at_upper) = if motion > 0.0 {
                ((upper - x) / motion, true)
            } else {
                ((x - lower) / -motion, false)
            };
            if !distance.is_finite() {
                continue;
            }
            let distance = distance.max(0.0);
            if best
                .as_ref()
                .is_none_or(|best| best.beaten_by(distance, change.abs()))
            {
                best = Some(Blocker {
                    distance,
                    size: change.abs(),
                    position,
                    at_upper,
                });
            }
        }
        best
    }

    /// The column of `slot` in the program's rows (a logical's is `-e_row`).
    pub(super) fn column(&self, slot: Slot) -> Vec<f64> {
        let mut column = vec![0.0; self.basis.program.rows.len()];
        match slot {
            Slot::Var(var) => {
                for &(row, coefficient) in &self.basis.by_column[var] {
                    column[row] += coefficient;
                }
            }
            Slot::Logical(row) => column[row] = -1.0,
        }
        column
    }

    /// The value of nonbasic `slot`: the bound it sits at.
    pub(super) fn nonbasic_value(&self, slot: Slot) -> f64 {
        let (lower, upper) = self.bounds(slot);
        let at_upper = match slot {
            Slot::Var(var) => self.var_status[var] == Status::Upper,
            Slot::Logical(row) => self.row_status[row] == Status::Upper,
        };
        if at_upper {
            upper
        } else {
            lower
        }
    }

    /// Replaces the basic variable at `position` (leaving at its upper bound when
    /// `at_upper`) by `entering`, whose column in the current basis is `w`.
    pub(super) fn pivot(
        &mut self,
        position: usize,
        entering: Slot,
        w: &[f64],
        at_upper: bool,
    ) -> bool {
        let pivot = w[position];
        if pivot.abs() < 1e-11 * w.iter().map(|w| w.abs()).fold(0.0, f64::max) {
            return false;
        }
        let entering_value = self.nonbasic_value(entering);
        self.etas.push(Eta {
            position,
            column: w
                .iter()
                .enumerate()
                .filter(|&(other, &w)| other != position && w != 0.0)
                .map(|(other, &w)| (other, w))
                .collect(),
            pivot,
        });
        let leaving_status = if at_upper {
            Status::Upper
        } else {
            Status::Lower
        };
        match self.basic[position] {
            Slot::Var(var) => self.var_status[var] = leaving_status,
            Slot::Logical(row) => self.row_status[row] = leaving_status,
        }
        match entering {
            Slot::Var(var) => self.var_status[var] = Status::Basic,
            Slot::Logical(row) => self.row_status[row] = Status::Basic,
        }
        self.basic[position] = entering;
        self.value[position] = entering_value;
        true
    }

    pub(super) fn ftran(&self, r: &[f64]) -> Vec<f64> {
        let mut z = self.basis.ftran(r);
        for eta in &self.etas {
            let at = z[eta.position] / eta.pivot;
            if at != 0.0 {
                for &(position, w) in &eta.column {
                    z[position] -= w * at;
                }
            }
            z[eta.position] = at;
        }
        z
    }

    pub(super) fn btran(&self, g: &[f64]) -> Vec<f64> {
        let mut h = g.to_vec();
        for eta in self.etas.iter().rev() {
            let others: f64 = eta
                .column
                .iter()
                .map(|&(position, w)| w * h[position])
                .sum();
            h[eta.position] = (h[eta.position] - others) / eta.pivot;
        }
        self.basis.btran(&h)
    }

    /// A row's current bounds (the walked row's moved by `moved`).
    pub(super) fn row_bounds(&self, row: usize) -> (f64, f64) {
        let program_row = &self.basis.program.rows[row];
        let rhs = program_row.rhs
            + if row == self.row {
                self.direction * self.moved
            } else {
                0.0
            };
        match program_row.sense {
            Sense::LessEqual => (f64::NEG_INFINITY, rhs),
            Sense::GreaterEqual => (rhs, f64::INFINITY),
            Sense::Equal => (rhs, rhs),
        }
    }

    pub(super) fn bounds(&self, slot: Slot) -> (f64, f64) {
        match slot {
            Slot::Var(var) => {
                let var = &self.basis.program.vars[var];
                (var.lower, var.upper)
            }
            Slot::Logical(row) => self.row_bounds(row),
        }
    }

    /// The walk: `(dual, reach)` with the walked row's dual on the first stretch
    /// (`None`: no plan meets the bound moved at all) and how far
    /// (right-hand-side units) it holds; `None` when undecided.
    pub(super) fn walk(
        mut self,
        row: usize,
        direction: f64,
        far: f64,
        negligible: f64,
    ) -> Option<(Option<f64>, f64)> {
        self.row = row;
        self.direction = direction;
        let mut rate: Option<f64> = None;
        let m = self.basis.program.rows.len();
        for _ in 0..MAX_STEPS {
            // How the basic variables move per unit the bound moves.
            let motion = if self.row_status[self.row] == Status::Basic {
                vec![0.0; m]
            } else {
                let mut unit = vec![0.0; m];
                unit[self.row] = self.direction;
                self.ftran(&unit)
            };
            let (step, blocker) = self.ratio_test(&motion);
            let dual = self.duals[self.row];
            if self.moved + step >= far {
                return Some((Some(rate.unwrap_or(dual)), self.moved + step));
            }
            let Some(blocker) = blocker else {
                tracing::trace!(row, direction, "undecided: unbounded step");
                return None;
            };
            if step > negligible && rate.is_none() {
                rate = Some(dual);
            }
            for (value, change) in self.value.iter_mut().zip(&motion) {
                *value += step * change;
            }
            self.moved += step;
            // A tie leaves the duals, and so the rate, alone: walk on. Otherwise
            // the duals move here: past the first stretch the range ends (the
            // rate changes, or nothing can enter and no plan goes further); at
            // the start (a degenerate vertex) the step gives the rate to walk.
            let rho = self.inverse_row(blocker.0);
            match self.tie_step(&rho, blocker)? {
                true => continue,
                false if rate.is_some() => return Some((rate, self.moved)),
                false => {}
            }
            match self.dual_step(&rho, blocker) {
                DualStep::Tie | DualStep::RateChanges => self.refresh(),
                DualStep::Infeasible => return Some((rate, self.moved)),
                DualStep::Undecided => return None,
            }
        }
        tracing::trace!(row, direction, "undecided: too many basis changes");
        None
    }

    /// The primal ratio test along `motion`: the step to the first basic variable
    /// reaching a bound (the walked row's bound moves along), with its position
    /// and which bound it reaches (true: upper).
    pub(super) fn ratio_test(&self, motion: &[f64]) -> (f64, Option<(usize, bool)>) {
        let largest = motion.iter().map(|m| m.abs()).fold(0.0, f64::max);
        let epsilon = 1e-9 * largest;
        let mut best = f64::INFINITY;
        let mut blocker = None;
        for (position, (&slot, &change)) in self.basic.iter().zip(motion).enumerate() {
            let moves_bounds = slot == Slot::Logical(self.row);
            if change == 0.0 && !moves_bounds {
                continue;
            }
            let bound_motion = if moves_bounds { self.direction } else { 0.0 };
            let (lower, upper) = self.bounds(slot);
            let x = self.value[position];
            let toward_upper = change - bound_motion;
            if toward_upper > epsilon && upper.is_finite() {
                let distance = ((upper - x) / toward_upper).max(0.0);
                if distance < best {
                    best = distance;
                    blocker = Some((position, true));
                }
            }
            let toward_lower = change - bound_motion;
            if toward_lower < -epsilon && lower.is_finite() {
                let distance = ((x - lower) / -toward_lower).max(0.0);
                if distance < best {
                    best = distance;
                    blocker = Some((position, false));
                }
            }
        }
        (best, blocker)
    }

    /// A dual simplex step at `blocker` (position, reaching its upper bound):
    /// the entering variable by the dual ratio test, the duals moved, the basis
    /// updated.
    pub(super) fn dual_step(
        &mut self,
        rho: &[f64],
        (position, at_upper): (usize, bool),
    ) -> DualStep {
        let basis = self.basis;
        let program = basis.program;
        // α for the columns ρ touches; every other α is 0, so those columns can
        // neither enter nor change their reduced cost. Scratch space is the
        // basis's, cleared again below.
        let mut scratch = basis.scratch.borrow_mut();
        let Scratch {
            alpha,
            alpha_size,
            touched,
            rho_rows,
        } = &mut *scratch;
        touched.clear();
        rho_rows.clear();
        let rho_scale = basis.rho_scale(rho);
        for (row, &rho) in rho.iter().enumerate() {
            if rho != 0.0 {
                rho_rows.push(row);
                for &(var, coefficient) in &program.rows[row].expr.terms {
                    if alpha_size[var] == 0.0 {
                        touched.push(var);
                    }
                    alpha[var] += rho * coefficient;
                    alpha_size[var] += (rho * coefficient).abs();
                }
            }
        }
        // Candidates: (slot, reduced cost, α, α's size, at its upper bound). A
        // coupling row (a budget, a margin) makes them most of the program's
        // columns, so they are scanned in place. A logical's α is its row's ρ
        // alone: judged against the largest ρ (in each row's own scale).
        let structurals = touched.iter().filter_map(|&var| {
            let upper = match self.var_status[var] {
                Status::Lower => false,
                Status::Upper => true,
                _ => return None,
            };
            Some((
                Slot::Var(var),
                self.reduced[var],
                alpha[var],
                alpha_size[var],
                upper,
            ))
        });
        let logicals = rho_rows.iter().filter_map(|&row| {
            let upper = match self.row_status[row] {
                Status::Lower => false,
                Status::Upper => true,
                _ => return None,
            };
            Some((
                Slot::Logical(row),
                self.duals[row],
                -rho[row],
                rho_scale / basis.row_largest[row],
                upper,
            ))
        });
        let eligible = |alpha: f64, size: f64, upper: bool| enters(alpha, size, upper, at_upper);
        let mut best: Option<(Slot, f64, f64)> = None;
        let mut best_ratio = f64::INFINITY;
        for (slot, d, alpha, size, upper) in structurals.clone().chain(logicals.clone()) {
            if !eligible(alpha, size, upper) {
                continue;
            }
            let ratio = (d / alpha).abs();
            let better = match best {
                None => true,
                Some((_, _, best_alpha)) => {
                    ratio < best_ratio || (ratio == best_ratio && alpha.abs() > best_alpha.abs())
                }
            };
            if better {
                best = Some((slot, d, alpha));
                best_ratio = ratio;
            }
        }
        let Some((entering, d_q, alpha_q)) = best else {
            clear(alpha, alpha_size, touched);
            return DualStep::Infeasible;
        };
        let step = d_q / alpha_q;
        // The duals y + step ρ must stay optimal (a tie changes nothing).
        let still_optimal = step == 0.0
            || structurals
                .chain(logicals)
                .all(|(_, d, alpha, size, upper)| {
                    let new = d - step * alpha;
                    let tolerance =
                        DUAL * (d.abs() + (step * size).abs()) + 1e-12 * basis.cost_scale;
                    if upper {
                        new >= -tolerance
                    } else {
                        new <= tolerance
                    }
                });
        let dual = self.duals[self.row];
        let new_dual = dual + step * rho[self.row];
        let tolerance = DUAL * (dual.abs() + basis.dual_scale(self.row));
        let changes = (new_dual - dual).abs() > tolerance;
        let verdict = if !still_optimal {
            tracing::trace!(
                row = self.row,
                step,
                "undecided: the dual step breaks optimality"
            );
            Some(DualStep::Undecided)
        } else if changes && (new_dual - dual) * self.direction > 0.0 {
            // Against concavity: something is off; let re-solves decide.
            tracing::trace!(
                row = self.row,
                dual,
                new_dual,
                "undecided: against concavity"
            );
            Some(DualStep::Undecided)
        } else {
            None
        };
        if verdict.is_none() && step != 0.0 {
            for (dual, &rho) in self.duals.iter_mut().zip(rho) {
                *dual += step * rho;
            }
            for &var in touched.iter() {
                self.reduced[var] -= step * alpha[var];
            }
        }
        clear(alpha, alpha_size, touched);
        drop(scratch);
        if let Some(verdict) = verdict {
            return verdict;
        }

        // The entering column in the current basis, and the basis change.
        let w = self.ftran(&self.column(entering));
        if !self.pivot(position, entering, &w, at_upper) {
            tracing::trace!(row = self.row, ?entering, "undecided: a pivot too small");
            return DualStep::Undecided;
        }
        if changes {
            DualStep::RateChanges
        } else {
            DualStep::Tie
        }
    }
}

/// What a dual simplex step did to the walked row's dual.
pub(super) enum DualStep {
    /// Left it alone.
    Tie,
    /// Changed it (the way concavity says).
    RateChanges,
    /// Nothing can enter: the dual is unbounded, so no plan meets the moved
    /// bound beyond this point.
    Infeasible,
    /// No step could be taken, or one did not check out.
    Undecided,
}
