//! An engine's optimum made an exact vertex: nonbasic variables on their bounds,
//! basic ones solved from the factorised basis, and the optimal face around it.

use super::walk::State;
use super::{Basis, BasisShape, Column, AT_BOUND};
use crate::program::{Face, LinExpr, Program};

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
    for (var, value) in basis.free_values(&polished) {
        polished[var] = value;
    }
    meets_every_row_and_bound(program, &mut polished, POLISHED).then_some(polished)
}

/// How far (relative) a vertex read off another program's basis may miss a row
/// or a bound: round-off only. An engine would call a program that such a vertex
/// misses by more infeasible (a frontier's bisection finds its feasibility
/// boundary this way), so only a clear fit settles a program without one.
const SETTLED: f64 = 1e-12;

/// Whether `values` meet every bound and row of `program` within `relative`;
/// values within that of a bound are put on it.
fn meets_every_row_and_bound(program: &Program, values: &mut [f64], relative: f64) -> bool {
    for (value, var) in values.iter_mut().zip(&program.vars) {
        let tolerance = relative * value.abs().max(1.0);
        if !value.is_finite() || *value < var.lower - tolerance || *value > var.upper + tolerance {
            return false;
        }
        *value = value.clamp(var.lower, var.upper);
    }
    !program
        .rows
        .iter()
        .any(|row| row.violation(values) > relative * row.scale(values))
}

/// The optimum of `max expr` (`min` unless `maximise`) over `program` read off
/// the basis `shape` — the shape of another program's optimum, such as the base
/// plan of a scenario batch — when that basis is still optimal: the variables at
/// a bound put on `program`'s bounds, the free ones solved from the shape's
/// tight rows with `program`'s coefficients and right-hand sides, the result
/// checked against every row and bound, and certified optimal by an optimal
/// basis at it (no reduced cost of the wrong sign). One factorisation instead of
/// a solve; `None` whenever any of that fails (then the caller solves).
pub(crate) fn vertex_at(
    program: &Program,
    maximise: bool,
    expr: &LinExpr,
    shape: &BasisShape,
) -> Option<Vertex> {
    let on_bounds = shape.on_bounds(program)?;
    let basis = Basis::with_shape(program, maximise, expr, &on_bounds, shape)?;
    certified(basis, &on_bounds)
}

/// The vertex of a freshly factorised `basis` (its nonbasic variables at
/// `on_bounds`), certified as [`vertex_at`] says: `None` unless it meets every
/// row and bound and an optimal basis holds at it.
pub(super) fn certified(basis: Basis<'_>, on_bounds: &[f64]) -> Option<Vertex> {
    let program = basis.program;
    let mut values = on_bounds.to_vec();
    for (var, value) in basis.free_values(on_bounds) {
        values[var] = value;
    }
    if !meets_every_row_and_bound(program, &mut values, SETTLED) {
        return None;
    }
    // The shape's own basis, factorised once, certifies the vertex: primal
    // feasible (just checked) and, after any degenerate repairs, dual feasible.
    let basis = basis.at_values(&values);
    let face = State::optimal(&basis)?.face();
    Some(Vertex {
        values: values.clone(),
        face: Some(face),
    })
}
