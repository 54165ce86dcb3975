//! Shadow prices read off an optimal basis.
//!
//! Probing the optimal-value function costs a re-solve per probe; on a large plan
//! that is far more than the solve itself. A simplex vertex carries the same
//! information: the variables strictly inside their bounds, with the rows that are
//! not tight, form (most of) an optimal basis. Factorising it once gives the duals
//! (the rates), one solve per constraint gives the motion of the plan as its bound
//! moves (the range, by a ratio test), and one more at the end of the range tells
//! whether the rate really changes there (a dual ratio test). Everything is checked:
//! a basis that is not dual feasible, a side whose range is degenerate (zero length)
//! or whose end the dual ratio test cannot confirm is left undecided, and the
//! caller measures it by re-solves instead.
//!
//! The program is `max c.x` (a minimised objective is negated) over rows
//! `a_i.x (sense) b_i` and bounds `l <= x <= u`. Each row has a logical variable,
//! its activity `s_i = a_i.x`, bounded by the row's sense. A basis holds every
//! structural variable strictly inside its bounds (the set `F`), the logicals of
//! rows that are not tight, and as many logicals of tight rows as `F` leaves over:
//! the tight rows whose columns in `F` form a nonsingular square (the pivot rows,
//! chosen by elimination) keep their logicals out of the basis and get duals; the
//! other tight rows are "released", with dual 0.

mod lu;
mod simplex;
mod vertex;
mod walk;

use crate::model::Objective;
use crate::program::{LinExpr, Program};
use crate::solve::first_objective;
use lu::Lu;
pub(crate) use simplex::{optimum_from, solve_from_bounds, Solved};
pub(crate) use vertex::{exact_vertex, polished, vertex_at, Vertex};
use walk::{Scratch, State};

/// A variable counts as at a bound within this (relative) distance.
pub(crate) const AT_BOUND: f64 = 1e-9;
/// Pivots smaller than this (relative to the column) mean the free columns are not
/// independent: the values are not a vertex, or too ill-conditioned to trust.
const PIVOT: f64 = 1e-9;
/// Reduced costs and duals may miss their sign by this much (relative to the
/// sum of the magnitudes they are computed from) from round-off. Measured on
/// realistic plans: round-off stays below 1e-15 of that size, while genuine
/// reduced costs start near 1e-7 of it (seed 807020224452: -0.032 of revenue
/// per unit beside a size of 3.7e5). The earlier 1e-7 took such a reduced cost
/// for zero: the optimal face came out too wide (a later level let revenue
/// slip) and a price's range ran past the point where the price changes.
const DUAL: f64 = 1e-10;
/// The largest dense elimination workspace (tight rows × free variables) tried.
const MAX_DENSE: usize = 25_000_000;

/// What the basis says about one side of one constraint: the rate (change of the
/// first objective per unit increase of the bound; `None` when no plan meets the
/// bound moved at all) and how far, in bound units, it holds (infinite when
/// nothing in the basis ends it). `None`: undecided.
pub(crate) type Side = Option<(Option<f64>, f64)>;

/// One constraint to price: its index in [`Program::named`], the factor turning a
/// unit of its bound into units of its row's right-hand side (1 for a linear
/// bound, the denominator at the plan for a ratio), and how far each side is
/// explored (bound units, up then down): a range reaching that far needs no
/// confirmation of its end.
pub(crate) struct Wanted {
    pub index: usize,
    pub factor: f64,
    pub far: [f64; 2],
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Column {
    /// Strictly inside its bounds: basic, at this position of `F`.
    Free(usize),
    Lower,
    Upper,
    /// Both bounds equal: never moves.
    Fixed,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum RowState {
    /// Tight with its logical out of the basis, at this pivot position.
    Pivot(usize),
    /// Its logical is basic (not tight, or released).
    Basic,
}

/// Prices of `wanted` from the basis at `vertex` (an optimal vertex of the first
/// objective on `program`): per constraint `[up, down]`. `None` when no optimal
/// basis can be read from the vertex (then every side is measured by re-solves).
pub(crate) fn basis_sides(
    program: &Program,
    objective: Objective,
    vertex: &[f64],
    wanted: &[Wanted],
) -> Option<Vec<[Side; 2]>> {
    let started = std::time::Instant::now();
    let (maximise, expr) = first_objective(objective, program);
    let basis = Basis::new(program, maximise, expr, vertex, AT_BOUND)?;
    let factorised = started.elapsed();
    let start = State::optimal(&basis)?;
    tracing::debug!(
        ?factorised,
        completed = ?started.elapsed(),
        free = basis.free.len(),
        pivots = basis.pivots.len(),
        repairs = start.etas.len(),
        "optimal basis"
    );
    Some(
        wanted
            .iter()
            .map(|wanted| {
                [
                    basis.side(&start, wanted, 1.0),
                    basis.side(&start, wanted, -1.0),
                ]
            })
            .collect(),
    )
}

/// A program's rows by column, `(row, coefficient)` in row order: one flat
/// list with each column's start (two allocations per basis, where a list per
/// column took one per variable, every scenario of a batch).
#[derive(Debug)]
struct ByColumn {
    /// Where each column's entries start in `entries`, and where the last ends.
    start: Vec<usize>,
    entries: Vec<(usize, f64)>,
}

impl ByColumn {
    /// `None` when a row names a variable the program does not have.
    fn of(program: &Program) -> Option<ByColumn> {
        let n = program.vars.len();
        let mut start = vec![0usize; n + 1];
        for row in &program.rows {
            for &(var, _) in &row.expr.terms {
                *start.get_mut(var.checked_add(1)?)? += 1;
            }
        }
        for var in 0..n {
            start[var + 1] += start[var];
        }
        let mut next = start.clone();
        let mut entries = vec![(0, 0.0); start[n]];
        for (index, row) in program.rows.iter().enumerate() {
            for &(var, coefficient) in &row.expr.terms {
                entries[next[var]] = (index, coefficient);
                next[var] += 1;
            }
        }
        Some(ByColumn { start, entries })
    }
}

impl std::ops::Index<usize> for ByColumn {
    type Output = [(usize, f64)];

    fn index(&self, var: usize) -> &[(usize, f64)] {
        &self.entries[self.start[var]..self.start[var + 1]]
    }
}

/// Where a vertex's variables and rows stand: each variable on a bound or free
/// (strictly inside its bounds), and the rows that are tight. The shape of one
/// program's optimum is a guess at the optimal basis of another with the same
/// variables and rows (a scenario of the same plan: other bounds, other
/// coefficients), which [`vertex_at`] tries and certifies.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BasisShape {
    columns: Vec<Column>,
    tight: Vec<usize>,
    /// The [`structure`] of the program it was read from.
    structure: u64,
}

/// A fingerprint of `program`'s structure: its variables, and which variables
/// each row has (not the coefficients, bounds or right-hand sides a scenario
/// moves). A scenario that adds a row (a Q1 cash cap the base plan lacks) has
/// another structure, and a basis of one means nothing for the other.
pub(crate) fn structure(program: &Program) -> u64 {
    // FNV-1a over the counts and indices: a fingerprint, not a defence against
    // crafted collisions (a basis that does not fit fails its certification),
    // and a few times cheaper than SipHash on a scenario's every row.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |value: usize| {
        hash = (hash ^ value as u64).wrapping_mul(0x0100_0000_01b3);
    };
    mix(program.vars.len());
    mix(program.rows.len());
    for row in &program.rows {
        mix(row.expr.terms.len());
        for &(var, _) in &row.expr.terms {
            mix(var);
        }
    }
    hash
}

impl BasisShape {
    /// `program`'s variables as this shape puts them: on the bound it names, the
    /// free ones 0 (to be solved for). `None` when the shape has another number
    /// of variables or names an infinite bound.
    pub(crate) fn on_bounds(&self, program: &Program) -> Option<Vec<f64>> {
        if self.columns.len() != program.vars.len() {
            return None;
        }
        self.columns
            .iter()
            .zip(&program.vars)
            .map(|(column, var)| {
                let value = match column {
                    Column::Lower | Column::Fixed => var.lower,
                    Column::Upper => var.upper,
                    Column::Free(_) => 0.0,
                };
                value.is_finite().then_some(value)
            })
            .collect()
    }

    /// Whether this shape was read from a program of `program`'s structure.
    pub(crate) fn fits(&self, structure: u64) -> bool {
        self.structure == structure
    }

    /// The shape of `program` at `values`: a variable within `at_bound`
    /// (relative) of a bound counts as at it.
    pub(crate) fn at(program: &Program, values: &[f64], at_bound: f64) -> BasisShape {
        let columns = program
            .vars
            .iter()
            .zip(values)
            .map(|(var, &x)| {
                let tolerance = at_bound * x.abs().max(1.0);
                let at_lower = x - var.lower <= tolerance;
                let at_upper = var.upper - x <= tolerance;
                match (at_lower, at_upper) {
                    (true, true) if var.upper - var.lower <= tolerance => Column::Fixed,
                    (true, _) => Column::Lower,
                    (_, true) => Column::Upper,
                    _ => Column::Free(0),
                }
            })
            .collect();
        let tight = program
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| row.is_tight(values))
            .map(|(index, _)| index)
            .collect();
        BasisShape {
            columns,
            tight,
            structure: structure(program),
        }
    }
}

/// A basis at a vertex, factorised: the free variables and the tight rows that
/// pivot on them. [`State`] completes it into an optimal basis.
struct Basis<'a> {
    program: &'a Program,
    values: &'a [f64],
    /// +1 when the first objective is maximised, -1 when minimised (negated here).
    sign: f64,
    activity: Vec<f64>,
    columns: Vec<Column>,
    /// Free position → variable.
    free: Vec<usize>,
    rows: Vec<RowState>,
    /// Pivot position → row.
    pivots: Vec<usize>,
    /// The program's rows by column: `(row, coefficient)`.
    by_column: ByColumn,
    lu: Lu,
    /// The objective's coefficients, for `max sign * objective`.
    cost: Vec<f64>,
    /// The objective's largest coefficient.
    cost_scale: f64,
    /// Each row's largest coefficient.
    row_largest: Vec<f64>,
    scratch: std::cell::RefCell<Scratch>,
}

impl<'a> Basis<'a> {
    /// The basis at `values` for `max expr` (`min` unless `maximise`): a
    /// variable within `at_bound` (relative) of a bound counts as at it.
    fn new(
        program: &'a Program,
        maximise: bool,
        expr: &LinExpr,
        values: &'a [f64],
        at_bound: f64,
    ) -> Option<Basis<'a>> {
        if values.len() != program.vars.len() {
            return None;
        }
        let shape = BasisShape::at(program, values, at_bound);
        Basis::with_shape(program, maximise, expr, values, &shape)
    }

    /// The same factorised basis at other `values` (the vertex its free
    /// variables were solved for): only the rows' activities are recomputed.
    fn at_values<'b>(self, values: &'b [f64]) -> Basis<'b>
    where
        'a: 'b,
    {
        let activity = self
            .program
            .rows
            .iter()
            .map(|row| row.expr.eval(values))
            .collect();
        Basis {
            values,
            activity,
            ..self
        }
    }

    /// The free variables' values (by variable) that make the pivot rows hold
    /// with equality when every other variable is at its value in `values`:
    /// `B x_F = rhs - N x_N`, one solve with the factors.
    fn free_values(&self, values: &[f64]) -> Vec<(usize, f64)> {
        let rhs: Vec<f64> = self
            .pivots
            .iter()
            .map(|&row| {
                let program_row = &self.program.rows[row];
                let fixed_part: f64 = program_row
                    .expr
                    .terms
                    .iter()
                    .filter(|&&(var, _)| !matches!(self.columns[var], Column::Free(_)))
                    .map(|&(var, coefficient)| coefficient * values[var])
                    .sum();
                program_row.rhs - fixed_part
            })
            .collect();
        let solved = self.lu.ftran(&rhs);
        self.free.iter().copied().zip(solved).collect()
    }

    /// The basis of `shape` on `program` at `values`: the shape's free variables
    /// over its tight rows, factorised. `None` when the shape does not fit the
    /// program or its tight rows do not determine its free variables.
    fn with_shape(
        program: &'a Program,
        maximise: bool,
        expr: &LinExpr,
        values: &'a [f64],
        shape: &BasisShape,
    ) -> Option<Basis<'a>> {
        let n = program.vars.len();
        if values.len() != n || shape.columns.len() != n {
            return None;
        }
        let sign = if maximise { 1.0 } else { -1.0 };
        let mut cost = vec![0.0; n];
        for &(var, coefficient) in &expr.terms {
            *cost.get_mut(var)? += sign * coefficient;
        }

        let mut free = Vec::new();
        let columns: Vec<Column> = shape
            .columns
            .iter()
            .map(|column| match column {
                Column::Free(_) => {
                    free.push(0);
                    Column::Free(free.len() - 1)
                }
                other => *other,
            })
            .collect();
        for (var, column) in columns.iter().enumerate() {
            if let Column::Free(position) = *column {
                free[position] = var;
            }
        }

        let by_column = ByColumn::of(program)?;
        let mut activity = Vec::with_capacity(program.rows.len());
        for row in &program.rows {
            activity.push(row.expr.eval(values));
        }
        let tight = &shape.tight;
        if tight.iter().any(|&row| row >= program.rows.len()) {
            return None;
        }
        let k = free.len();
        if k > tight.len() || tight.len().saturating_mul(k) > MAX_DENSE {
            return None;
        }

        // The tight rows over the free columns, each row scaled to a largest
        // coefficient of 1, eliminated with partial pivoting: the first `k` rows
        // of `order` are the pivot rows.
        let mut scale = Vec::with_capacity(tight.len());
        let mut dense: Vec<Vec<f64>> = tight
            .iter()
            .map(|&index| {
                let row = &program.rows[index];
                let largest = row.largest_coefficient();
                let factor = if largest > 0.0 { 1.0 / largest } else { 1.0 };
                scale.push(factor);
                let mut dense = vec![0.0; k];
                for &(var, coefficient) in &row.expr.terms {
                    if let Some(&Column::Free(position)) = columns.get(var) {
                        dense[position] += coefficient * factor;
                    }
                }
                dense
            })
            .collect();
        let column_max: Vec<f64> = (0..k)
            .map(|j| dense.iter().map(|row| row[j].abs()).fold(0.0, f64::max))
            .collect();
        let mut order: Vec<usize> = (0..tight.len()).collect();
        for j in 0..k {
            let (best, magnitude) = (j..order.len())
                .map(|position| (position, dense[order[position]][j].abs()))
                .fold(
                    (j, 0.0),
                    |best, this| if this.1 > best.1 { this } else { best },
                );
            if magnitude == 0.0 || magnitude < PIVOT * column_max[j] {
                return None;
            }
            order.swap(j, best);
            let pivot_row = std::mem::take(&mut dense[order[j]]);
            let pivot = pivot_row[j];
            let tail: Vec<usize> = (j + 1..k).filter(|&c| pivot_row[c] != 0.0).collect();
            for &other in &order[j + 1..] {
                let row = &mut dense[other];
                let entry = row[j];
                if entry != 0.0 {
                    let multiplier = entry / pivot;
                    row[j] = multiplier;
                    for &c in &tail {
                        row[c] -= multiplier * pivot_row[c];
                    }
                }
            }
            dense[order[j]] = pivot_row;
        }

        let mut lu = Lu {
            scale: order[..k].iter().map(|&position| scale[position]).collect(),
            l_cols: vec![Vec::new(); k],
            l_rows: vec![Vec::new(); k],
            u_cols: vec![Vec::new(); k],
            u_rows: vec![Vec::new(); k],
            diagonal: vec![0.0; k],
        };
        for (i, &position) in order[..k].iter().enumerate() {
            for (j, &value) in dense[position].iter().enumerate() {
                if value == 0.0 {
                    continue;
                }
                match j.cmp(&i) {
                    std::cmp::Ordering::Less => {
                        lu.l_cols[j].push((i, value));
                        lu.l_rows[i].push((j, value));
                    }
                    std::cmp::Ordering::Equal => lu.diagonal[i] = value,
                    std::cmp::Ordering::Greater => {
                        lu.u_cols[j].push((i, value));
                        lu.u_rows[i].push((j, value));
                    }
                }
            }
        }
        drop(dense);
        let pivots: Vec<usize> = order[..k].iter().map(|&position| tight[position]).collect();
        let mut rows = vec![RowState::Basic; program.rows.len()];
        for (position, &row) in pivots.iter().enumerate() {
            rows[row] = RowState::Pivot(position);
        }

        let cost_scale = cost.iter().map(|c| c.abs()).fold(0.0, f64::max).max(1e-300);
        Some(Basis {
            program,
            values,
            sign,
            activity,
            columns,
            free,
            rows,
            pivots,
            by_column,
            lu,
            cost,
            cost_scale,
            row_largest: program
                .rows
                .iter()
                .map(|row| row.largest_coefficient().max(1e-300))
                .collect(),
            scratch: std::cell::RefCell::new(Scratch {
                alpha: vec![0.0; n],
                alpha_size: vec![0.0; n],
                touched: Vec::new(),
                rho_rows: Vec::new(),
            }),
        })
    }

    /// The largest entry of `rho` in each row's own scale: what a logical's α
    /// (its row's ρ alone) is judged against.
    fn rho_scale(&self, rho: &[f64]) -> f64 {
        rho.iter()
            .zip(&self.row_largest)
            .map(|(rho, largest)| (rho * largest).abs())
            .fold(0.0, f64::max)
    }

    /// The round-off scale of `row`'s dual: the objective's largest coefficient
    /// over the row's largest.
    fn dual_scale(&self, row: usize) -> f64 {
        self.cost_scale / self.row_largest[row]
    }

    /// Solves `B0 z = r` for the factorised basis: `r` by row, `z` by basis
    /// position (a free variable sits at its pivot row's position, a basic
    /// logical at its own row's).
    fn ftran(&self, r: &[f64]) -> Vec<f64> {
        let on_pivots: Vec<f64> = self.pivots.iter().map(|&row| r[row]).collect();
        let free_part = self.lu.ftran(&on_pivots);
        let mut z: Vec<f64> = r.iter().map(|r| -r).collect();
        for (position, &row) in self.pivots.iter().enumerate() {
            z[row] = free_part[position];
        }
        for (position, &change) in free_part.iter().enumerate() {
            if change != 0.0 {
                for &(row, coefficient) in &self.by_column[self.free[position]] {
                    if self.rows[row] == RowState::Basic {
                        z[row] += coefficient * change;
                    }
                }
            }
        }
        z
    }

    /// Solves `B0^T ρ = g`: `g` by basis position, `ρ` by row.
    fn btran(&self, g: &[f64]) -> Vec<f64> {
        let mut on_free: Vec<f64> = self.pivots.iter().map(|&row| g[row]).collect();
        for (row, &value) in g.iter().enumerate() {
            if value != 0.0 && self.rows[row] == RowState::Basic {
                for &(var, coefficient) in &self.program.rows[row].expr.terms {
                    if let Column::Free(position) = self.columns[var] {
                        on_free[position] += value * coefficient;
                    }
                }
            }
        }
        let on_pivots = self.lu.btran(&on_free);
        let mut rho: Vec<f64> = g
            .iter()
            .zip(&self.rows)
            .map(|(&g, state)| match state {
                RowState::Basic => -g,
                RowState::Pivot(_) => 0.0,
            })
            .collect();
        for (position, &row) in self.pivots.iter().enumerate() {
            rho[row] = on_pivots[position];
        }
        rho
    }

    /// One side (`direction` +1: raising the bound) of `wanted`, by a parametric
    /// walk from the optimal basis `start`.
    fn side(&self, start: &State<'_, 'a>, wanted: &Wanted, direction: f64) -> Side {
        let named = self.program.named.get(wanted.index)?;
        if !(wanted.factor > 1e-12 && wanted.factor.is_finite()) {
            return None;
        }
        let far = if direction > 0.0 {
            wanted.far[0]
        } else {
            wanted.far[1]
        };
        let scale = named.bound.abs().max(1.0);
        let (dual, reach) = start.clone().walk(
            named.row,
            direction,
            far * wanted.factor,
            1e-9 * scale * wanted.factor,
        )?;
        Some((
            dual.map(|dual| self.sign * dual * wanted.factor),
            reach / wanted.factor,
        ))
    }
}

#[cfg(test)]
mod tests;
