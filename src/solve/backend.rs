//! The solver engines: one stage of a [`Program`] solved with good_lp's microlp or,
//! with the `highs` feature, with HiGHS.

use std::time::Duration;

use good_lp::solvers::microlp::microlp;
use good_lp::{
    variable, Expression, ProblemVariables, ResolutionError, Solution, SolverModel, Variable,
    WithTimeLimit,
};

use super::{Backend, Direction, SolveError};
use crate::model::Sense;
use crate::program::{LinExpr, Program, Row};

/// How one stage ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StageOutcome {
    /// Proven optimal values.
    Optimal(Vec<f64>),
    /// The time limit ran out with an integer-feasible incumbent and this proven
    /// relative gap.
    Feasible { values: Vec<f64>, gap: f64 },
    /// No values satisfy every row.
    Infeasible,
    /// The objective grows without bound.
    Unbounded,
    /// The time limit ran out before any values were found.
    TimedOut,
}

impl StageOutcome {
    /// The outcome's name, for logs.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            StageOutcome::Optimal(_) => "optimal",
            StageOutcome::Feasible { .. } => "feasible",
            StageOutcome::Infeasible => "infeasible",
            StageOutcome::Unbounded => "unbounded",
            StageOutcome::TimedOut => "timed out",
        }
    }
}

fn expression(expr: &LinExpr, vars: &[Variable]) -> Expression {
    let mut expression = Expression::with_capacity(expr.terms.len());
    for &(var, coefficient) in &expr.terms {
        if let Some(&variable) = vars.get(var) {
            expression.add_mul(coefficient, variable);
        }
    }
    expression + expr.constant
}

/// Solves `program` with the extra `holds` rows for `objective` in `direction`, on
/// the program's engine.
pub(crate) fn solve_stage(
    program: &Program,
    holds: &[Row],
    objective: &LinExpr,
    direction: Direction,
    time_limit: Option<Duration>,
) -> Result<StageOutcome, SolveError> {
    match program.backend {
        Backend::Microlp => {
            #[cfg(feature = "highs")]
            let started = std::time::Instant::now();
            let outcome = solve_microlp(program, holds, objective, direction, time_limit);
            // The last link of the chain: HiGHS, where it is compiled in.
            #[cfg(feature = "highs")]
            if let Err(SolveError::Backend(error)) = &outcome {
                tracing::warn!(%error, "microlp failed; solving the stage with HiGHS");
                let left = time_limit.map(|limit| limit.saturating_sub(started.elapsed()));
                return super::highs::HighsSession::new(program)
                    .solve(holds, objective, direction, left);
            }
            outcome
        }
        #[cfg(feature = "highs")]
        Backend::Highs => {
            super::highs::HighsSession::new(program).solve(holds, objective, direction, time_limit)
        }
        #[cfg(not(feature = "highs"))]
        Backend::Highs => Err(SolveError::Unavailable(Backend::Highs)),
    }
}

/// Solves the lexicographic stages of one program in turn, keeping what the engine
/// can reuse between them: HiGHS keeps its model and basis, so a later stage (one
/// more row, a new objective) starts from the earlier optimum instead of from
/// scratch. microlp solves each stage afresh.
pub(crate) struct StageSolver<'p> {
    program: &'p Program,
    #[cfg(feature = "highs")]
    highs: Option<super::highs::HighsSession<'p>>,
}

impl<'p> StageSolver<'p> {
    pub(crate) fn new(program: &'p Program) -> Self {
        StageSolver {
            program,
            #[cfg(feature = "highs")]
            highs: None,
        }
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
            let session = self
                .highs
                .get_or_insert_with(|| super::highs::HighsSession::new(program));
            return session.solve(holds, objective, direction, time_limit);
        }
        solve_stage(self.program, holds, objective, direction, time_limit)
    }
}

/// [`solve_stage`] on microlp.
///
/// The rows go to microlp as written: microlp equilibrates each row by a power of
/// two (exact, no mantissa rounding) and judges feasibility in the rows' own
/// units. Scaling them ourselves to a largest coefficient of 1 (as earlier
/// versions did) rounds every coefficient, which turned exact cancellations into
/// near-singular bases ("Singular matrix" on realistic plans), and shrank a money
/// row's feasibility tolerance's meaning by its scale, so integral candidates
/// that broke a share bound by 1e-5 were accepted. microlp can still fail on a
/// program (a singular basis, an integral candidate its branch and bound gives
/// up on); the stage is then tried once more with the rows scaled — another
/// start for the same program — before the failure is reported.
fn solve_microlp(
    program: &Program,
    holds: &[Row],
    objective: &LinExpr,
    direction: Direction,
    time_limit: Option<Duration>,
) -> Result<StageOutcome, SolveError> {
    let started = std::time::Instant::now();
    match solve_once(program, holds, objective, direction, time_limit, false) {
        Err(SolveError::Backend(error)) => {
            tracing::warn!(%error, "microlp failed on the rows as written; retrying them scaled");
            let left = time_limit.map(|limit| limit.saturating_sub(started.elapsed()));
            solve_once(program, holds, objective, direction, left, true)
        }
        outcome => outcome,
    }
}

fn solve_once(
    program: &Program,
    holds: &[Row],
    objective: &LinExpr,
    direction: Direction,
    time_limit: Option<Duration>,
    scale_rows: bool,
) -> Result<StageOutcome, SolveError> {
    if time_limit.is_some_and(|limit| limit.is_zero()) {
        return Ok(StageOutcome::TimedOut);
    }
    let mut problem = ProblemVariables::new();
    let vars: Vec<Variable> = program
        .vars
        .iter()
        .map(|var| {
            let definition = variable().min(var.lower).max(var.upper);
            problem.add(if var.integer {
                definition.integer()
            } else {
                definition
            })
        })
        .collect();
    let objective_expression = expression(objective, &vars);
    let unsolved = match direction {
        Direction::Maximise => problem.maximise(objective_expression),
        Direction::Minimise => problem.minimise(objective_expression),
    };
    let mut model = unsolved.using(microlp);
    if let Some(limit) = time_limit {
        model = model.with_time_limit(limit.as_secs_f64());
    }
    for row in program.rows.iter().chain(holds) {
        // Only on the retry: rows scaled to a largest coefficient of 1.
        let largest = row.largest_coefficient();
        let factor = if scale_rows && largest > 0.0 {
            1.0 / largest
        } else {
            1.0
        };
        let lhs = expression(&row.expr, &vars) * factor;
        let rhs = row.rhs * factor;
        model.add_constraint(match row.sense {
            Sense::LessEqual => lhs.leq(rhs),
            Sense::GreaterEqual => lhs.geq(rhs),
            Sense::Equal => lhs.eq(rhs),
        });
    }
    let integer = program.is_mixed_integer();
    match model.solve() {
        Ok(solution) => {
            let values: Vec<f64> = vars.iter().map(|&var| solution.value(var)).collect();
            let inner = solution.into_inner();
            if inner.termination_reason() == microlp::TerminationReason::ProvenOptimal || !integer {
                Ok(StageOutcome::Optimal(values))
            } else {
                let gap = inner.gap().unwrap_or(f64::INFINITY);
                Ok(StageOutcome::Feasible { values, gap })
            }
        }
        Err(ResolutionError::Infeasible) => Ok(StageOutcome::Infeasible),
        Err(ResolutionError::Unbounded) => Ok(StageOutcome::Unbounded),
        Err(ResolutionError::Other(_)) if time_limit.is_some() => Ok(StageOutcome::TimedOut),
        Err(error) => Err(SolveError::Backend(error.to_string())),
    }
}
