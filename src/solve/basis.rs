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

use crate::model::{Objective, Sense};
use crate::program::{Face, LinExpr, Program};
use crate::solve::first_objective;

/// A variable counts as at a bound within this (relative) distance.
const AT_BOUND: f64 = 1e-9;
/// Pivots smaller than this (relative to the column) mean the free columns are not
/// independent: the values are not a vertex, or too ill-conditioned to trust.
const PIVOT: f64 = 1e-9;
/// Reduced costs and duals may miss their sign by this much (relative) from
/// round-off.
const DUAL: f64 = 1e-7;
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

/// How far (relative) a polished vertex may miss a row or a bound: round-off of
/// one factorised solve, far inside the verification tolerance.
const POLISHED: f64 = 1e-9;
/// Classification tolerances tried in turn when polishing: a variable within
/// this (relative) distance of a bound is taken to sit on it. An engine's vertex
/// is within its own feasibility tolerance (about 1e-7 absolute on scaled
/// values) of the exact one.
const POLISH_AT_BOUND: [f64; 3] = [1e-9, 1e-7, 1e-6];

/// An exact vertex of a solved linear program and, when asked, the face of its
/// optimal solutions.
pub(crate) struct Vertex {
    /// The values: every nonbasic variable exactly on its bound, the basic ones
    /// solved from the factorised basis.
    pub values: Vec<f64>,
    /// Every optimal solution of the objective (complementary slackness with the
    /// vertex's optimal duals): these variables at these values, these rows
    /// tight. `None` when no optimal basis could be completed at the vertex.
    pub face: Option<Face>,
}

/// The optimal vertex near `values`, an engine's optimum of `max expr` (`min`
/// unless `maximise`) over `program`: nonbasic variables snapped onto their
/// bounds and basic ones recomputed by one factorised solve, so that binding is
/// exact and prices read a correctly classified basis. `None` when `values` are
/// not (close to) a vertex, the basis is too large to factorise densely, or the
/// recomputed values miss a row or bound by more than round-off.
pub(crate) fn exact_vertex(
    program: &Program,
    maximise: bool,
    expr: &LinExpr,
    values: &[f64],
) -> Option<Vertex> {
    let polished = POLISH_AT_BOUND
        .iter()
        .find_map(|&at_bound| polish(program, maximise, expr, values, at_bound))?;
    let basis = Basis::new(program, maximise, expr, &polished, AT_BOUND)?;
    let face = State::optimal(&basis).map(|state| state.face());
    Some(Vertex {
        values: polished.clone(),
        face,
    })
}

/// The exact vertex near `values` (as [`exact_vertex`], without the face).
pub(crate) fn polished(program: &Program, values: &[f64]) -> Option<Vec<f64>> {
    let nothing = LinExpr::default();
    POLISH_AT_BOUND
        .iter()
        .find_map(|&at_bound| polish(program, true, &nothing, values, at_bound))
}

/// `values` recomputed from the basis classified at `at_bound`, if they meet
/// every row and bound within [`POLISHED`].
fn polish(
    program: &Program,
    maximise: bool,
    expr: &LinExpr,
    values: &[f64],
    at_bound: f64,
) -> Option<Vec<f64>> {
    let basis = Basis::new(program, maximise, expr, values, at_bound)?;
    let mut polished = values.to_vec();
    for ((value, column), var) in polished.iter_mut().zip(&basis.columns).zip(&program.vars) {
        match column {
            Column::Lower | Column::Fixed => *value = var.lower,
            Column::Upper => *value = var.upper,
            Column::Free(_) => {}
        }
    }
    // The pivot rows hold with equality: B x_F = rhs - N x_N.
    let rhs: Vec<f64> = basis
        .pivots
        .iter()
        .map(|&row| {
            let program_row = &program.rows[row];
            let fixed_part: f64 = program_row
                .expr
                .terms
                .iter()
                .filter(|&&(var, _)| !matches!(basis.columns[var], Column::Free(_)))
                .map(|&(var, coefficient)| coefficient * polished[var])
                .sum();
            program_row.rhs - fixed_part
        })
        .collect();
    let free_values = basis.lu.ftran(&rhs);
    for (&var, value) in basis.free.iter().zip(free_values) {
        polished[var] = value;
    }
    for (value, var) in polished.iter_mut().zip(&program.vars) {
        let tolerance = POLISHED * value.abs().max(1.0);
        if !value.is_finite() || *value < var.lower - tolerance || *value > var.upper + tolerance {
            return None;
        }
        *value = value.clamp(var.lower, var.upper);
    }
    let misses = program
        .rows
        .iter()
        .any(|row| row.violation(&polished) > POLISHED * row.scale(&polished));
    (!misses).then_some(polished)
}

/// Dense LU factors of the pivot rows' free columns (rows scaled), kept sparse.
struct Lu {
    /// Row scale per pivot position.
    scale: Vec<f64>,
    /// Strictly lower part of L by column and by row: `(other index, value)`.
    l_cols: Vec<Vec<(usize, f64)>>,
    l_rows: Vec<Vec<(usize, f64)>>,
    /// Strictly upper part of U by column and by row, and its diagonal.
    u_cols: Vec<Vec<(usize, f64)>>,
    u_rows: Vec<Vec<(usize, f64)>>,
    diagonal: Vec<f64>,
}

impl Lu {
    /// Solves `B z = r` (`r` by pivot position, `z` by free position).
    fn ftran(&self, r: &[f64]) -> Vec<f64> {
        let mut w: Vec<f64> = r.iter().zip(&self.scale).map(|(r, s)| r * s).collect();
        for j in 0..w.len() {
            let wj = w[j];
            if wj != 0.0 {
                for &(i, l) in &self.l_cols[j] {
                    w[i] -= l * wj;
                }
            }
        }
        for j in (0..w.len()).rev() {
            if w[j] != 0.0 {
                w[j] /= self.diagonal[j];
                let wj = w[j];
                for &(i, u) in &self.u_cols[j] {
                    w[i] -= u * wj;
                }
            }
        }
        w
    }

    /// Solves `B^T y = g` (`g` by free position, `y` by pivot position).
    fn btran(&self, g: &[f64]) -> Vec<f64> {
        let mut v = g.to_vec();
        for j in 0..v.len() {
            if v[j] != 0.0 {
                v[j] /= self.diagonal[j];
                let vj = v[j];
                for &(c, u) in &self.u_rows[j] {
                    v[c] -= u * vj;
                }
            }
        }
        for j in (0..v.len()).rev() {
            let vj = v[j];
            if vj != 0.0 {
                for &(c, l) in &self.l_rows[j] {
                    v[c] -= l * vj;
                }
            }
        }
        v.iter().zip(&self.scale).map(|(v, s)| v * s).collect()
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
    by_column: Vec<Vec<(usize, f64)>>,
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
        let n = program.vars.len();
        if values.len() != n {
            return None;
        }
        let sign = if maximise { 1.0 } else { -1.0 };
        let mut cost = vec![0.0; n];
        for &(var, coefficient) in &expr.terms {
            *cost.get_mut(var)? += sign * coefficient;
        }

        let mut free = Vec::new();
        let columns: Vec<Column> = program
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
                    _ => {
                        free.push(0);
                        Column::Free(free.len() - 1)
                    }
                }
            })
            .collect();
        for (var, column) in columns.iter().enumerate() {
            if let Column::Free(position) = *column {
                free[position] = var;
            }
        }

        let mut by_column: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        let mut activity = Vec::with_capacity(program.rows.len());
        let mut tight = Vec::new();
        for (index, row) in program.rows.iter().enumerate() {
            for &(var, coefficient) in &row.expr.terms {
                by_column.get_mut(var)?.push((index, coefficient));
            }
            activity.push(row.expr.eval(values));
            if row.is_tight(values) {
                tight.push(index);
            }
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

/// Working space of a dual step, kept with the basis so that walks do not
/// allocate it per step: `alpha` and `alpha_size` are zero outside `touched`.
struct Scratch {
    alpha: Vec<f64>,
    alpha_size: Vec<f64>,
    touched: Vec<usize>,
    rho_rows: Vec<usize>,
}

/// Whether a nonbasic variable (at its upper bound when `upper`) whose pivot row
/// entry is `alpha` (of round-off scale `size`) may replace a blocker that
/// reaches its upper bound (`at_upper`) or its lower one: it must push the
/// blocker back (down from an upper bound, up from a lower one).
fn enters(alpha: f64, size: f64, upper: bool, at_upper: bool) -> bool {
    let epsilon = 1e-9 * f64::max(size, 1e-300);
    if at_upper {
        (!upper && alpha > epsilon) || (upper && alpha < -epsilon)
    } else {
        (!upper && alpha < -epsilon) || (upper && alpha > epsilon)
    }
}

/// Zeroes the entries of `alpha` and `alpha_size` that `touched` lists.
fn clear(alpha: &mut [f64], alpha_size: &mut [f64], touched: &mut Vec<usize>) {
    for var in touched.drain(..) {
        alpha[var] = 0.0;
        alpha_size[var] = 0.0;
    }
}

/// A basic or nonbasic variable of the full basis.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Slot {
    Var(usize),
    Logical(usize),
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Status {
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
struct Eta {
    position: usize,
    column: Vec<(usize, f64)>,
    pivot: f64,
}

/// Most basis changes one side may take before it is left to re-solves.
const MAX_STEPS: usize = 24;
/// Most degenerate pivots spent completing the basis before giving up.
const MAX_REPAIRS: usize = 200;

/// A basis on top of the factorised one (product-form updates), with its duals,
/// and the parametric walk of one bound from it: the plan moves with the bound
/// until a basic variable reaches a bound; a dual simplex step then either
/// changes the rate (the range ends there) or, a tie, leaves it alone (walk on).
#[derive(Clone)]
struct State<'b, 'a> {
    basis: &'b Basis<'a>,
    /// The row whose bound is walked (none while the basis is completed).
    row: usize,
    direction: f64,
    /// How far the bound has moved (right-hand-side units).
    moved: f64,
    basic: Vec<Slot>,
    /// Values of the basic variables, by position.
    value: Vec<f64>,
    var_status: Vec<Status>,
    row_status: Vec<Status>,
    /// Per row, for `max sign * objective`.
    duals: Vec<f64>,
    /// Per variable: `c_j - a_j . y`.
    reduced: Vec<f64>,
    etas: Vec<Eta>,
    /// The nonbasic variables whose reduced cost is zero: the only ones a dual
    /// simplex step can bring in without moving the duals (a tie).
    zero: Vec<Slot>,
}

impl<'b, 'a> State<'b, 'a> {
    /// The factorised basis completed into an optimal one: as it is when its
    /// duals are optimal, otherwise after degenerate primal simplex pivots at the
    /// vertex (Bland's rule). `None` when that does not succeed.
    fn optimal(basis: &'b Basis<'a>) -> Option<Self> {
        let m = basis.program.rows.len();
        let mut basic: Vec<Slot> = (0..m).map(Slot::Logical).collect();
        let mut value = basis.activity.clone();
        for (position, &pivot_row) in basis.pivots.iter().enumerate() {
            let var = basis.free[position];
            basic[pivot_row] = Slot::Var(var);
            value[pivot_row] = basis.values[var];
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
        let mut state = State {
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
        };
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

    /// Duals `y = c_B B^{-1}` and reduced costs `c - A^T y` of the current
    /// basis; returns each reduced cost's round-off scale.
    fn reprice(&mut self) -> Vec<f64> {
        let basis = self.basis;
        let program = basis.program;
        let costs: Vec<f64> = self
            .basic
            .iter()
            .map(|slot| match *slot {
                Slot::Var(var) => basis.cost[var],
                Slot::Logical(_) => 0.0,
            })
            .collect();
        self.duals = self.btran(&costs);
        self.reduced = basis.cost.clone();
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

    /// The nonbasic variables (not fixed) whose reduced cost is zero up to
    /// round-off.
    fn dual_degenerate(&self, size: &[f64]) -> Vec<Slot> {
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
    fn inverse_row(&self, position: usize) -> Vec<f64> {
        let mut unit = vec![0.0; self.basis.program.rows.len()];
        unit[position] = 1.0;
        self.btran(&unit)
    }

    /// Duals, reduced costs and the zero-reduced-cost set afresh (after the
    /// duals moved).
    fn refresh(&mut self) {
        let size = self.reprice();
        self.zero = self.dual_degenerate(&size);
    }

    /// The optimal face this optimal basis proves: every nonbasic variable whose
    /// reduced cost is not zero stays at its bound, every nonbasic logical whose
    /// dual is not zero keeps its row tight (complementary slackness holds for
    /// every optimal solution against these optimal duals).
    fn face(&self) -> Face {
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
        Face { fixed, tight }
    }

    /// A tie at `blocker` (position, reaching its upper bound; `rho` its row of
    /// the basis inverse): a variable of
    /// zero reduced cost that can take its place, pivoted in without moving the
    /// duals. `Some(true)`: done; `Some(false)`: there is none, so a dual step
    /// here moves the duals; `None`: the pivot was too small to trust.
    fn tie_step(&mut self, rho: &[f64], (position, at_upper): (usize, bool)) -> Option<bool> {
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
    fn mispriced(&self, size: &[f64]) -> Option<(Slot, f64)> {
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
                    let dual = self.duals[row];
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
    fn degenerate_pivot(&mut self, (entering, way): (Slot, f64)) -> bool {
        let w = self.ftran(&self.column(entering));
        let largest = w.iter().map(|w| w.abs()).fold(0.0, f64::max);
        let epsilon = 1e-9 * largest;
        let mut best: Option<(f64, f64, usize, bool)> = None;
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
            let better = best.is_none_or(|(d, size, _, _)| {
                distance < d - 1e-12 || (distance <= d + 1e-12 && change.abs() > size)
            });
            if better {
                best = Some((distance, change.abs(), position, at_upper));
            }
        }
        let Some((distance, _, position, at_upper)) = best else {
            return false;
        };
        if distance > 1e-9 * self.value[position].abs().max(1.0) {
            return false;
        }
        self.pivot(position, entering, &w, at_upper)
    }

    /// The column of `slot` in the program's rows (a logical's is `-e_row`).
    fn column(&self, slot: Slot) -> Vec<f64> {
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
    fn nonbasic_value(&self, slot: Slot) -> f64 {
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
    fn pivot(&mut self, position: usize, entering: Slot, w: &[f64], at_upper: bool) -> bool {
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

    fn ftran(&self, r: &[f64]) -> Vec<f64> {
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

    fn btran(&self, g: &[f64]) -> Vec<f64> {
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
    fn row_bounds(&self, row: usize) -> (f64, f64) {
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

    fn bounds(&self, slot: Slot) -> (f64, f64) {
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
    fn walk(
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
    fn ratio_test(&self, motion: &[f64]) -> (f64, Option<(usize, bool)>) {
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
    fn dual_step(&mut self, rho: &[f64], (position, at_upper): (usize, bool)) -> DualStep {
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
enum DualStep {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{fixtures, Objective};
    use crate::solve::{first_optimum, Optimum};

    /// Linear constraint `name` of `program`, explored far on both sides.
    fn wanted(program: &Program, name: &str) -> Wanted {
        let index = program
            .named
            .iter()
            .position(|named| named.name == name)
            .expect("named constraint");
        Wanted {
            index,
            factor: 1.0,
            far: [1e9, 1e9],
        }
    }

    /// The first objective's optimal values on `program`.
    fn vertex(program: &Program, plan: &crate::model::Plan) -> Vec<f64> {
        let Ok(Optimum::Value(_, vertex)) = first_optimum(program, plan.objective, None) else {
            panic!("the plan solves");
        };
        vertex
    }

    fn sides(plan: &crate::model::Plan, name: &str) -> Option<[Side; 2]> {
        let program = Program::build(plan);
        let vertex = vertex(&program, plan);
        basis_sides(&program, plan.objective, &vertex, &[wanted(&program, name)])
            .map(|sides| sides[0])
    }

    #[track_caller]
    fn assert_side(side: Side, rate: f64, reach: f64) {
        let (found_rate, found_reach) = side.expect("decided from the basis");
        let found_rate = found_rate.expect("a rate");
        assert!(
            (found_rate - rate).abs() < 1e-9,
            "rate {found_rate}, expected {rate}"
        );
        assert!(
            (found_reach - reach).abs() < 1e-6 || found_reach == reach,
            "reach {found_reach}, expected {reach}"
        );
    }

    #[test]
    fn budget_price_and_range_in_case_one() {
        // docs/MODEL.md §4, min_margin 0.2: the budget buys b at 1.5 revenue per unit of
        // money. Up to 450, where the margin floor binds: with a = 50, b = x,
        // 0.8 (150 + 1.5 x) - (50 + x) >= 0.2 (150 + 1.5 x) gives x <= 400; down to
        // 50, where b = 0. From a budget of 100: 350 up, 50 down.
        let plan = fixtures::worked_example(0.2);
        let [up, down] = sides(&plan, "budget_cap").expect("an optimal basis");
        assert_side(up, 1.5, 350.0);
        assert_side(down, 1.5, 50.0);
    }

    #[test]
    fn a_slack_constraint_costs_nothing() {
        // Case two (min_margin 0.4): the budget does not bind (spend 75 of 100).
        // Raising it changes nothing, ever; lowering it costs nothing down to 75,
        // where it starts to bind.
        let plan = fixtures::worked_example(0.4);
        let [up, down] = sides(&plan, "budget_cap").expect("an optimal basis");
        assert_side(up, 0.0, f64::INFINITY);
        assert_side(down, 0.0, 25.0);
    }

    #[test]
    fn a_degenerate_vertex_gives_both_one_sided_rates() {
        // Budget exactly 50: a's first segment (3.0 per unit of money) is just used
        // up and b is at 0, a degenerate vertex. Raising the budget buys b at 1.5
        // (until 450, 400 further); lowering it gives up a's first segment at 3.0
        // all the way down to 0.
        let mut plan = fixtures::worked_example(0.2);
        plan.budget_cap = Some(50.0);
        let [up, down] = sides(&plan, "budget_cap").expect("an optimal basis");
        assert_side(up, 1.5, 400.0);
        assert_side(down, 3.0, 50.0);
    }

    #[test]
    fn a_minimised_objective_is_priced_in_its_own_direction() {
        // Minimise spend for a revenue target of 180: the last 30 of revenue come
        // from b at 1.5 per unit of money, so each unit of target costs 1 / 1.5 of
        // spend, up to 225 (what a budget of 100 buys, 45 further) and down to
        // 150 (a's first segment alone, 30 lower).
        let mut plan = fixtures::worked_example(0.2);
        plan.requirements.revenue_target = Some(180.0);
        plan.objective = Objective::MinimizeSpend;
        let [up, down] = sides(&plan, "requirements.revenue_target").expect("an optimal basis");
        assert_side(up, 1.0 / 1.5, 45.0);
        assert_side(down, 1.0 / 1.5, 30.0);
    }

    #[test]
    fn a_bound_that_cannot_move_has_no_rate() {
        // A target of 225 is exactly what the budget buys: raising it leaves no
        // plan at all (no rate, decided at once); lowering it saves 1 / 1.5 of
        // spend per unit down to 150.
        let mut plan = fixtures::worked_example(0.2);
        plan.requirements.revenue_target = Some(225.0);
        plan.objective = Objective::MinimizeSpend;
        let [up, down] = sides(&plan, "requirements.revenue_target").expect("an optimal basis");
        assert_eq!(up, Some((None, 0.0)));
        assert_side(down, 1.0 / 1.5, 75.0);
    }

    #[test]
    fn values_that_are_not_a_vertex_give_no_basis() {
        // Case one with b's units split off the vertex: a = 40 (inside its first
        // segment) and b = 60 leave two variables free against one tight row.
        let plan = fixtures::worked_example(0.2);
        let program = Program::build(&plan);
        let mut values = vertex(&program, &plan);
        let a_first = program.segment_units[0][0][0];
        let b_only = program.segment_units[1][0][0];
        values[a_first] -= 10.0;
        values[b_only] += 10.0;
        let wanted = wanted(&program, "budget_cap");
        assert!(basis_sides(&program, plan.objective, &values, &[wanted]).is_none());
    }
}
