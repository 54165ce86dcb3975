//! The solver engines: one stage of a [`Program`] solved with microlp or,
//! with the `highs` feature, with HiGHS.

use std::time::Duration;

pub(crate) use super::outcome::StageOutcome;
use super::{Backend, Direction, SolveError};
use crate::model::Sense;
use crate::program::{LinExpr, Program, Row};

/// Solves `program` with the extra `holds` rows for `objective` in `direction`, on
/// the program's engine.
pub(crate) fn solve_stage(
    program: &Program,
    holds: &[Row],
    objective: &LinExpr,
    direction: Direction,
    time_limit: Option<Duration>,
    hint: Option<&[f64]>,
) -> Result<StageOutcome, SolveError> {
    match program.backend {
        Backend::Microlp => {
            #[cfg(feature = "highs")]
            let started = std::time::Instant::now();
            let outcome = solve_microlp(program, holds, objective, direction, time_limit, hint);
            // The last link of the chain: HiGHS, where it is compiled in.
            #[cfg(feature = "highs")]
            if let Err(SolveError::Backend(error)) = &outcome {
                tracing::info!(%error, "microlp failed; solving the stage with HiGHS");
                let left = time_limit.map(|limit| limit.saturating_sub(started.elapsed()));
                return super::highs::HighsSession::new(program)
                    .solve(holds, objective, direction, left);
            }
            outcome
        }
        #[cfg(feature = "highs")]
        Backend::Highs => {
            let started = std::time::Instant::now();
            let outcome = super::highs::HighsSession::new(program)
                .solve(holds, objective, direction, time_limit);
            highs_or_microlp(
                outcome, program, holds, objective, direction, time_limit, started,
            )
        }
        #[cfg(not(feature = "highs"))]
        Backend::Highs => Err(SolveError::Unavailable(Backend::Highs)),
    }
}

/// A HiGHS stage's outcome, or, when HiGHS failed (an error status, or a status it
/// cannot classify: found by the realistic long run's diagnosis re-solves, seeds
/// 302412239298 and 302412239065), the same stage on microlp's chain of starts in
/// the time left: the mirror of microlp's last link, so that a plan fails only
/// when every engine of the build fails on it.
#[cfg(feature = "highs")]
fn highs_or_microlp(
    outcome: Result<StageOutcome, SolveError>,
    program: &Program,
    holds: &[Row],
    objective: &LinExpr,
    direction: Direction,
    time_limit: Option<Duration>,
    started: std::time::Instant,
) -> Result<StageOutcome, SolveError> {
    let Err(SolveError::Backend(error)) = &outcome else {
        return outcome;
    };
    tracing::info!(%error, "HiGHS failed; solving the stage with microlp");
    let left = time_limit.map(|limit| limit.saturating_sub(started.elapsed()));
    match solve_microlp(program, holds, objective, direction, left, None) {
        Err(SolveError::Backend(_)) => outcome,
        answered => answered,
    }
}

/// Solves the lexicographic stages of one program in turn, keeping what the engine
/// can reuse between them: HiGHS keeps its model and basis, so a later stage (one
/// more row, a new objective) starts from the earlier optimum instead of from
/// scratch. microlp solves each stage afresh.
pub(crate) struct StageSolver<'p> {
    program: &'p Program,
    /// Values known to satisfy the next stage (the previous stage's optimum, which
    /// its holds keep feasible): microlp's branch and bound starts from them as its
    /// first incumbent instead of searching for one.
    hint: Option<Vec<f64>>,
    #[cfg(feature = "highs")]
    highs: Option<super::highs::HighsSession<'p>>,
}

impl<'p> StageSolver<'p> {
    pub(crate) fn new(program: &'p Program) -> Self {
        StageSolver {
            program,
            hint: None,
            #[cfg(feature = "highs")]
            highs: None,
        }
    }

    /// Sets the values the next stages start from (see `hint`).
    pub(crate) fn set_hint(&mut self, values: &[f64]) {
        self.hint = Some(values.to_vec());
    }

    /// Solves the next stage: `holds` extends (or loosens) the previous stage's.
    pub(crate) fn solve(
        &mut self,
        holds: &[Row],
        objective: &LinExpr,
        direction: Direction,
        time_limit: Option<Duration>,
    ) -> Result<StageOutcome, SolveError> {
        // A cancelled request (its caller went away) starts no new solve.
        if super::cancel::cancelled() {
            return Ok(StageOutcome::TimedOut);
        }
        #[cfg(feature = "highs")]
        if self.program.backend == Backend::Highs {
            let program = self.program;
            let started = std::time::Instant::now();
            let session = self
                .highs
                .get_or_insert_with(|| super::highs::HighsSession::new(program));
            let outcome = session.solve(holds, objective, direction, time_limit);
            if matches!(outcome, Err(SolveError::Backend(_))) {
                // The session's model is in an unknown state after a failure.
                self.highs = None;
            }
            return highs_or_microlp(
                outcome, program, holds, objective, direction, time_limit, started,
            );
        }
        solve_stage(
            self.program,
            holds,
            objective,
            direction,
            time_limit,
            self.hint.as_deref(),
        )
    }
}

/// [`solve_stage`] on microlp.
///
/// The program goes to `microlp::Problem` directly, not through good_lp's model
/// layer (which this crate no longer uses): the explanations' warm starts need
/// microlp's own problem anyway, good_lp hands rows over in its expression maps'
/// order rather than the program's, and it passes no starting incumbent.
///
/// The rows go to microlp as written: microlp equilibrates each row by a power of
/// two (exact, no mantissa rounding) and judges feasibility in the rows' own
/// units. Scaling them ourselves to a largest coefficient of 1 (as earlier
/// versions did) rounds every coefficient, which turned exact cancellations into
/// near-singular bases ("Singular matrix" on realistic plans), and shrank a money
/// row's feasibility tolerance's meaning by its scale, so integral candidates
/// that broke a share bound by 1e-5 were accepted. microlp can still fail on a
/// program (a singular basis, an integral candidate its branch and bound gives
/// up on); the stage is then tried from the other [`Start`]s — the same program,
/// other pivots — before the failure is reported.
fn solve_microlp(
    program: &Program,
    holds: &[Row],
    objective: &LinExpr,
    direction: Direction,
    time_limit: Option<Duration>,
    hint: Option<&[f64]>,
) -> Result<StageOutcome, SolveError> {
    let started = std::time::Instant::now();
    let mut failure = None;
    // A feasibility question (a constant objective) is where microlp meets
    // singular bases most (diagnoses on realistic plans): any objective bounded on
    // the variables' box answers it as well, so one is tried second.
    let starts: &[Start] = if objective.terms.is_empty() {
        &[
            Start::AsWritten,
            Start::Surrogate,
            Start::ScaledRows,
            Start::Reversed,
            Start::ScaledColumns,
            Start::Shuffled,
        ]
    } else {
        &[
            Start::AsWritten,
            Start::ScaledRows,
            Start::Reversed,
            Start::ScaledColumns,
            Start::Shuffled,
        ]
    };
    // An optimum that breaks one of the program's own rows (microlp's answer is
    // wrong, not just rounded) is a failed start too; it is returned, to be
    // refused by the verification, only when no other start does better.
    let mut unverified = None;
    // Whole units: a scrambled order can send microlp's branch and bound off for
    // the whole time limit, where a failure hands the level to the whole-units-
    // fixed fallback at once; it is tried on linear programs only.
    let integer = program.is_mixed_integer();
    // One start in the time left. A panic inside microlp (an assertion on its
    // pivoting state) is a failed start like an error: the next start pivots
    // differently.
    let attempt = |start: Start, integrality: f64| {
        let left = time_limit.map(|limit| limit.saturating_sub(started.elapsed()));
        super::contain(Backend::Microlp, || {
            solve_once(
                program,
                holds,
                objective,
                direction,
                left,
                start,
                hint,
                integrality,
            )
        })
    };
    for &start in starts {
        if integer && start == Start::Shuffled {
            continue;
        }
        match attempt(start, DEFAULT_INTEGRALITY) {
            Err(SolveError::Backend(error)) => {
                tracing::debug!(%error, ?start, "microlp failed; trying its next start");
                failure = Some(error);
            }
            Ok(StageOutcome::Optimal(values)) if breaks_a_row(program, holds, &values) => {
                tracing::debug!(
                    ?start,
                    "microlp's optimum breaks a row; trying its next start"
                );
                unverified.get_or_insert(StageOutcome::Optimal(values));
            }
            outcome => return outcome,
        }
    }
    // Whole units: microlp accepts a value within its integrality tolerance
    // (1e-6) of whole, and a millionth of a unit worth 100 a unit meets a row
    // that the whole number breaks (a revenue target of 0.0001 met by 1e-6 of
    // an AE; a share bound by 1.2e-6 of itself). Asked again with integrality
    // judged at round-off, its branch and bound separates such a value instead
    // of accepting it.
    if integer && unverified.is_some() {
        for start in [Start::AsWritten, Start::ScaledColumns] {
            match attempt(start, STRICT_INTEGRALITY) {
                Err(SolveError::Backend(error)) => {
                    tracing::debug!(%error, ?start, "microlp failed with strict integrality");
                }
                Ok(StageOutcome::Optimal(values)) if breaks_a_row(program, holds, &values) => {
                    tracing::debug!(
                        ?start,
                        "microlp's optimum breaks a row with strict integrality too"
                    );
                }
                outcome => return outcome,
            }
        }
    }
    // Every start failed or broke a row: a linear program goes to the
    // project's own simplex (certified optimum, or a proof that no plan
    // exists), as at a feasibility edge where microlp meets singular bases or
    // calls a plan feasible within its tolerance that breaks a row by 1e-4. A
    // whole-unit program's linear relaxation goes there too: no plan of it
    // means no plan of whole units (a revenue target of 0.0001 where the
    // group shares allow no spend, met by microlp within its tolerance), and
    // an optimum already whole is the optimum of whole units.
    let time_left = time_limit.is_none_or(|limit| started.elapsed() < limit);
    if time_left {
        let mut asked = program.clone();
        asked.rows.extend_from_slice(holds);
        for var in &mut asked.vars {
            var.integer = false;
        }
        let maximise = direction == Direction::Maximise;
        match super::basis::solve_from_bounds(&asked, maximise, objective) {
            Some(super::basis::Solved::Optimal(values))
                if !integer || all_whole(program, &values) =>
            {
                tracing::debug!("every start failed; our own simplex found the optimum");
                return Ok(StageOutcome::Optimal(values));
            }
            Some(super::basis::Solved::Optimal(_)) => {
                tracing::debug!("every start failed; the linear relaxation's optimum is not whole");
            }
            Some(super::basis::Solved::Infeasible) => {
                tracing::debug!("every start failed; our own simplex proved no plan exists");
                return Ok(StageOutcome::Infeasible);
            }
            None => tracing::debug!("every start failed; our own simplex gave up too"),
        }
    }
    match unverified {
        Some(outcome) => Ok(outcome),
        None => Err(SolveError::Backend(failure.unwrap_or_default())),
    }
}

/// How a stage is handed to microlp. Every start is the same program; they differ
/// in the order and scale microlp sees, and so in its pivots: a basis that turns
/// out singular (round-off in microlp's LU factors) from one start is usually
/// never met from another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// Rows and variables as written (the exact form, tried first).
    AsWritten,
    /// Each row divided by its largest coefficient.
    ScaledRows,
    /// Rows and variables in reverse order, as written: other entering and
    /// leaving choices among ties, another factorisation order.
    Reversed,
    /// Each continuous variable measured in a power of two of its own units, so
    /// that its largest coefficient is near 1 (microlp scales rows itself, never
    /// columns), and each row divided by its largest coefficient: a plan with
    /// money in the billions beside unit counts gives bases of wildly different
    /// column sizes, which microlp's LU can call singular, and integral
    /// candidates its own validation refuses. (Found by the realistic long run:
    /// plans moved to a diagnosis's far bound.)
    ScaledColumns,
    /// Rows and variables in a fixed scrambled order, rows and columns scaled as
    /// in [`Start::ScaledColumns`]: the last start, for a linear program every
    /// ordered start met a singular basis on.
    Shuffled,
    /// For a constant objective only: the rows as written, minimising each
    /// variable's distance from a finite bound of its box (per its box's size), an
    /// objective bounded below, so it never turns a feasible program unbounded.
    Surrogate,
}

/// A fixed scrambled order of `0..n` (the same on every run): indices sorted by
/// a hash of themselves.
fn scrambled(n: usize) -> Vec<usize> {
    let hash = |index: usize| {
        let mut z = (index as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&index| hash(index));
    order
}

/// The objective of [`Start::Surrogate`] for `program`'s variables.
fn surrogate_objective(program: &Program) -> LinExpr {
    let terms = program
        .vars
        .iter()
        .enumerate()
        .filter_map(|(index, var)| {
            let size = if var.lower.is_finite() && var.upper.is_finite() {
                (var.upper - var.lower).max(1.0)
            } else {
                var.lower.abs().max(var.upper.abs()).max(1.0)
            };
            if var.lower.is_finite() {
                Some((index, 1.0 / size))
            } else if var.upper.is_finite() {
                Some((index, -1.0 / size))
            } else {
                None
            }
        })
        .filter(|(_, weight)| weight.is_finite())
        .collect();
    LinExpr {
        terms,
        constant: 0.0,
    }
}

/// microlp's integrality tolerance for the retry of a whole-unit stage whose
/// optima broke a row once their whole units were made whole: round-off.
const STRICT_INTEGRALITY: f64 = 1e-9;
/// microlp's own integrality tolerance (its default, 1e-6), used first.
const DEFAULT_INTEGRALITY: f64 = 1e-6;

/// One stage on microlp from `start`, whole units judged whole within
/// `integrality`.
#[allow(clippy::too_many_arguments)]
fn solve_once(
    program: &Program,
    holds: &[Row],
    objective: &LinExpr,
    direction: Direction,
    time_limit: Option<Duration>,
    start: Start,
    hint: Option<&[f64]>,
    integrality: f64,
) -> Result<StageOutcome, SolveError> {
    if time_limit.is_some_and(|limit| limit.is_zero()) {
        return Ok(StageOutcome::TimedOut);
    }
    let surrogate;
    let (objective, direction) = if start == Start::Surrogate {
        surrogate = surrogate_objective(program);
        (&surrogate, Direction::Minimise)
    } else {
        (objective, direction)
    };
    let mut costs = vec![0.0; program.vars.len()];
    for &(var, coefficient) in &objective.terms {
        if let Some(cost) = costs.get_mut(var) {
            *cost += coefficient;
        }
    }
    let mut problem = microlp::Problem::new(match direction {
        Direction::Maximise => microlp::OptimizationDirection::Maximize,
        Direction::Minimise => microlp::OptimizationDirection::Minimize,
    });
    let reversed = start == Start::Reversed;
    // A variable's value is `scale` times microlp's.
    let scaled = matches!(start, Start::ScaledColumns | Start::Shuffled);
    let scales = if scaled {
        column_scales(program, holds)
    } else {
        vec![1.0; program.vars.len()]
    };
    let mut order: Vec<usize> = (0..program.vars.len()).collect();
    if reversed {
        order.reverse();
    }
    if start == Start::Shuffled {
        order = scrambled(program.vars.len());
    }
    let mut vars: Vec<Option<microlp::Variable>> = vec![None; program.vars.len()];
    for index in order {
        let var = &program.vars[index];
        let scale = scales[index];
        let cost = costs[index] * scale;
        vars[index] = Some(if var.integer {
            let (Some(lower), Some(upper)) = (whole(var.lower.ceil()), whole(var.upper.floor()))
            else {
                return Err(SolveError::Backend(
                    "microlp takes whole-unit bounds within ±2^31 only".to_string(),
                ));
            };
            if lower > upper {
                return Ok(StageOutcome::Infeasible);
            }
            problem.add_integer_var(cost, (lower, upper))
        } else {
            problem.add_var(cost, (var.lower / scale, var.upper / scale))
        });
    }
    let vars: Vec<microlp::Variable> = vars.into_iter().flatten().collect();
    let mut rows: Vec<&Row> = program.rows.iter().chain(holds).collect();
    if reversed {
        rows.reverse();
    }
    if start == Start::Shuffled {
        rows = scrambled(rows.len())
            .into_iter()
            .map(|index| rows[index])
            .collect();
    }
    for row in rows {
        let largest = row.largest_coefficient();
        let factor = if (start == Start::ScaledRows || scaled) && largest > 0.0 {
            1.0 / largest
        } else {
            1.0
        };
        // Terms in variable order, repeated variables merged: the same row on every
        // run, whatever order the program built it in.
        let mut terms = row.expr.terms.clone();
        terms.sort_by_key(|&(var, _)| var);
        let mut expr = microlp::LinearExpr::empty();
        let mut merged: Option<(usize, f64)> = None;
        for (var, coefficient) in terms.into_iter().chain([(usize::MAX, 0.0)]) {
            match merged {
                Some((last, sum)) if last == var => merged = Some((last, sum + coefficient)),
                _ => {
                    if let Some((last, sum)) = merged {
                        if sum != 0.0 {
                            if let (Some(&variable), Some(&scale)) =
                                (vars.get(last), scales.get(last))
                            {
                                expr.add(variable, sum * factor * scale);
                            }
                        }
                    }
                    merged = Some((var, coefficient));
                }
            }
        }
        let op = match row.sense {
            Sense::LessEqual => microlp::ComparisonOp::Le,
            Sense::GreaterEqual => microlp::ComparisonOp::Ge,
            Sense::Equal => microlp::ComparisonOp::Eq,
        };
        problem.add_constraint(expr, op, (row.rhs - row.expr.constant) * factor);
    }
    let integer = program.is_mixed_integer();
    let mut options = microlp::SolveOptions::default();
    options.time_limit = time_limit;
    options.int_tol = integrality;
    if integer {
        // microlp checks the hint and drops it when it breaks a row or a bound.
        options.warm_start = hint
            .filter(|hint| hint.len() == vars.len())
            .map(|hint| vars.iter().copied().zip(hint.iter().copied()).collect());
    }
    match problem.solve_with(options) {
        Ok(microlp::SolveOutcome::Solution(solution)) => {
            let stats = solution.stats();
            tracing::debug!(
                ?start,
                nodes = stats.nodes_solved,
                pivots = stats.lp_iterations,
                elapsed = ?stats.elapsed,
                "microlp solved"
            );
            let values: Vec<f64> = vars
                .iter()
                .zip(&program.vars)
                .zip(&scales)
                .map(|((&variable, var), &scale)| {
                    let value = solution.var_value(variable) * scale;
                    // A whole-unit value within microlp's integrality tolerance is
                    // the whole number it stands for (the plan is verified after).
                    if var.integer && (value - value.round()).abs() <= integrality {
                        value.round()
                    } else {
                        value
                    }
                })
                .collect();
            if solution.termination_reason() == microlp::TerminationReason::ProvenOptimal
                || !integer
            {
                Ok(StageOutcome::Optimal(values))
            } else {
                let gap = solution.gap().unwrap_or(f64::INFINITY);
                Ok(StageOutcome::Feasible { values, gap })
            }
        }
        Ok(microlp::SolveOutcome::Interrupted(_)) => Ok(StageOutcome::TimedOut),
        Err(microlp::Error::Infeasible) => Ok(StageOutcome::Infeasible),
        Err(microlp::Error::Unbounded) => Ok(StageOutcome::Unbounded),
        Err(error) => Err(SolveError::Backend(error.to_string())),
    }
}

/// Whether `values`, cleaned as a reported plan is, break a bound or a row of
/// `program`, or one of the `holds` that keep earlier levels at their optima, by
/// more than the verification allows.
fn breaks_a_row(program: &Program, holds: &[Row], values: &[f64]) -> bool {
    let mut cleaned = values.to_vec();
    super::clean(program, &mut cleaned, 1e-9);
    super::first_violation(program, &cleaned, super::VERIFY_TOLERANCE).is_some()
        || holds
            .iter()
            .any(|hold| hold.violation(&cleaned) > super::VERIFY_TOLERANCE * hold.scale(&cleaned))
}

/// Whether every whole-unit variable of `program` is whole in `values`, to
/// round-off.
fn all_whole(program: &Program, values: &[f64]) -> bool {
    program
        .vars
        .iter()
        .zip(values)
        .all(|(var, value)| !var.integer || (value - value.round()).abs() <= STRICT_INTEGRALITY)
}

/// For [`Start::ScaledColumns`]: per variable, the power of two nearest the
/// reciprocal of its largest coefficient in the rows (1 for whole-unit variables,
/// whose values must stay whole, and for variables in no row).
fn column_scales(program: &Program, holds: &[Row]) -> Vec<f64> {
    let mut largest = vec![0.0_f64; program.vars.len()];
    for row in program.rows.iter().chain(holds) {
        for &(var, coefficient) in &row.expr.terms {
            if let Some(slot) = largest.get_mut(var) {
                *slot = slot.max(coefficient.abs());
            }
        }
    }
    largest
        .iter()
        .zip(&program.vars)
        .map(|(&largest, var)| {
            if var.integer || largest == 0.0 || !largest.is_finite() {
                1.0
            } else {
                (-largest.log2().round()).exp2()
            }
        })
        .collect()
}

/// `bound` as microlp's whole-unit bound: infinite ones as its widest, finite ones
/// only within `i32`.
fn whole(bound: f64) -> Option<i32> {
    if bound == f64::NEG_INFINITY {
        Some(i32::MIN)
    } else if bound == f64::INFINITY {
        Some(i32::MAX)
    } else if (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&bound) {
        Some(bound as i32)
    } else {
        None
    }
}
