//! Solving a plan: lexicographic stages, time limits and post-solve verification.
//!
//! A plan's objective is a lexicographic order of three totals (docs/MODEL.md §2): the
//! first is optimised, then held at its optimum (within `1e-9 * max(1, |optimum|)`)
//! while the second is optimised, and so on. The solver is not trusted blindly: the
//! final values are re-checked against every row of the program before a plan is
//! reported.

mod backend;
mod bases;
pub(crate) mod basis;
mod cancel;
#[cfg(feature = "highs")]
mod highs;
mod outcome;
pub(crate) mod warm;

pub use bases::Bases;
pub use cancel::{with_cancel, CancelOnDrop, CancelToken};

pub use crate::program::Backend;

use std::borrow::Cow;
use std::time::{Duration, Instant};

use crate::model::{Objective, Plan, Sense};
use crate::program::{LinExpr, Program, Row};
use backend::{StageOutcome, StageSolver};

/// With HiGHS compiled in, `AUTO` hands it programs with at least this many
/// variables (and every program with integer variables). Measured with
/// `cargo bench --features highs --bench backends` (the README's engine table): the
/// two break even at about 240 variables (2.8 ms each); below, microlp is quicker
/// (1.3 against 1.6 ms at 96), above, HiGHS pulls away (5 against 10 ms at 480,
/// 20 against 92 ms at 2,000).
pub const AUTO_HIGHS_MIN_VARIABLES: usize = 250;

/// Which engine a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SolverChoice {
    /// The best engine compiled in for the program at hand: HiGHS for large or
    /// integer programs when available, microlp otherwise.
    #[default]
    Auto,
    /// Exactly this engine; an error if the build lacks it.
    Only(Backend),
}

impl SolverChoice {
    /// Whether this build can honour the choice.
    pub fn check_available(self) -> Result<(), SolveError> {
        match self {
            SolverChoice::Only(backend) if !backend.is_available() => {
                Err(SolveError::Unavailable(backend))
            }
            _ => Ok(()),
        }
    }

    /// The engine that solves `program`.
    pub fn resolve(self, program: &Program) -> Result<Backend, SolveError> {
        self.check_available()?;
        Ok(match self {
            SolverChoice::Only(backend) => backend,
            SolverChoice::Auto
                if Backend::Highs.is_available()
                    && (program.is_mixed_integer()
                        || program.vars.len() >= AUTO_HIGHS_MIN_VARIABLES) =>
            {
                Backend::Highs
            }
            SolverChoice::Auto => Backend::Microlp,
        })
    }
}

/// Relative tolerance within which a solved plan must satisfy every row.
pub const VERIFY_TOLERANCE: f64 = 1e-6;

/// Relative tolerances tried, in order, when holding an earlier stage at its optimum.
/// docs/MODEL.md allows `1e-9`; holding exactly first keeps later stages from buying tiny
/// amounts of a worse objective with that slack, and the looser ones only absorb
/// solver round-off when a tighter hold is reported infeasible.
const HOLD_TOLERANCES: [f64; 4] = [0.0, 1e-9, 1e-7, 1e-5];

/// How to run one solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveOptions {
    /// Wall-clock budget for all stages together. `None`: no limit.
    pub time_limit: Option<Duration>,
    /// Whether to explain the result: shadow prices for a solved plan, a diagnosis
    /// for an infeasible one. They cost extra solves; batch runs that need only
    /// allocations turn them off.
    pub explain: bool,
    /// The solver engine.
    pub solver: SolverChoice,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            time_limit: None,
            explain: true,
            solver: SolverChoice::Auto,
        }
    }
}

/// How a solve ended (docs/MODEL.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A proven optimal plan.
    Optimal,
    /// No plan meets every constraint.
    Infeasible,
    /// Some objective level grows without bound.
    Unbounded,
    /// The time limit ran out; a plan is reported when one was found.
    TimeLimit,
}

/// A solve that could not produce a trustworthy answer. Infeasible and unbounded
/// plans are not errors: they are [`Status`]es.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolveError {
    /// The solver backend failed (numerical trouble, unsupported input).
    #[error("the solver failed: {0}")]
    Backend(String),
    /// The request asked for an engine this build does not include.
    #[error("the {} solver is not compiled into this build (available: {}); rebuild with `--features {}` or ask for SOLVER_AUTO", .0.name(), available_names(), .0.name())]
    Unavailable(Backend),
    /// A time budget ran out. Only explanations report this: a solve that runs out
    /// of time is a [`Status::TimeLimit`] result.
    #[error("the time budget ran out")]
    OutOfTime,
    /// The solver returned values that break a constraint of the plan.
    #[error("the solver returned a plan that breaks {constraint} by {violation:.3e} (relative); it is not reported")]
    Verification {
        /// The broken row: a docs/MODEL.md §3 name or a structural row.
        constraint: String,
        /// Relative violation.
        violation: f64,
    },
}

/// Direction of one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Maximise,
    Minimise,
}

/// The raw outcome of solving a program: the values of its variables, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramSolution {
    /// How the solve ended.
    pub status: Status,
    /// Variable values when a plan was found (verified against every row).
    pub values: Option<Vec<f64>>,
    /// Proven relative gap of the stage that ran out of time, for integer programs.
    pub relative_gap: Option<f64>,
    /// Lexicographic stages solved to optimality.
    pub stages: u32,
    /// One sentence on the outcome.
    pub message: String,
    /// The first stage's optimal values as the solver returned them (a vertex of
    /// the first objective alone): explanations of a linear program price from
    /// here instead of solving it again.
    pub first_stage: Option<Vec<f64>>,
    /// Whether the first level was settled from a kept optimal basis
    /// ([`Bases`]) instead of by an engine.
    pub basis_reused: bool,
    /// The simplex pivots that took from the kept basis to the first level's
    /// optimum (0 when it was still optimal, or none was reused).
    pub basis_pivots: usize,
}

fn available_names() -> String {
    Backend::available()
        .iter()
        .map(|backend| backend.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The program of `plan`, to be solved by the engine `choice` picks for it.
pub fn build_program(plan: &Plan, choice: SolverChoice) -> Result<Program, SolveError> {
    let mut program = Program::build(plan);
    program.backend = choice.resolve(&program)?;
    Ok(program)
}

/// The stages of an objective, in order: its three totals, with a re-plan's
/// money moved minimised second (docs/MODEL.md §6).
fn stages(objective: Objective, program: &Program) -> Vec<(Direction, &LinExpr, &'static str)> {
    let levels = &program.levels;
    let revenue = (Direction::Maximise, &levels.revenue, "revenue");
    let spend = (Direction::Minimise, &levels.spend, "spend");
    let contribution = (Direction::Maximise, &levels.contribution, "contribution");
    let [first, second, third] = match objective {
        Objective::MaximizeRevenue => [revenue, spend, contribution],
        Objective::MaximizeContribution => [contribution, revenue, spend],
        Objective::MinimizeSpend => [spend, revenue, contribution],
    };
    match &program.replan {
        Some(replan) => {
            let moved = (Direction::Minimise, &replan.change, "money moved");
            vec![first, moved, second, third]
        }
        None => vec![first, second, third],
    }
}

/// What optimising a program's first objective gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Optimum {
    /// The optimal value of the first objective and the values reaching it.
    Value(f64, Vec<f64>),
    /// No values satisfy every row.
    Infeasible,
    /// The first objective grows without bound.
    Unbounded,
    /// The time limit ran out first.
    TimedOut,
}

/// The first total of `objective` on `program`: whether it is maximised, and its
/// expression.
pub fn first_objective(objective: Objective, program: &Program) -> (bool, &LinExpr) {
    let levels = &program.levels;
    match objective {
        Objective::MaximizeRevenue => (true, &levels.revenue),
        Objective::MaximizeContribution => (true, &levels.contribution),
        Objective::MinimizeSpend => (false, &levels.spend),
    }
}

/// Optimises only the first objective of `objective` on `program` (no tie-breaks):
/// the value whose changes shadow prices measure.
pub fn first_optimum(
    program: &Program,
    objective: Objective,
    time_limit: Option<Duration>,
) -> Result<Optimum, SolveError> {
    let (maximise, expr) = first_objective(objective, program);
    optimize_expr(program, expr, maximise, time_limit)
}

/// Maximises (or minimises) `expr` over `program`: a building block for diagnosis
/// (how far can this measure go?) and feasibility checks (an empty `expr`).
pub fn optimize_expr(
    program: &Program,
    expr: &LinExpr,
    maximise: bool,
    time_limit: Option<Duration>,
) -> Result<Optimum, SolveError> {
    let direction = if maximise {
        Direction::Maximise
    } else {
        Direction::Minimise
    };
    Ok(match stage(program, &[], expr, direction, time_limit)? {
        StageOutcome::Optimal(values) if !program.is_mixed_integer() => {
            // An exact vertex, so that what binds there is decided exactly.
            let values = basis::polished(program, &values).unwrap_or(values);
            Optimum::Value(expr.eval(&values), values)
        }
        StageOutcome::Optimal(values) | StageOutcome::Feasible { values, .. } => {
            Optimum::Value(expr.eval(&values), values)
        }
        StageOutcome::Infeasible => Optimum::Infeasible,
        StageOutcome::Unbounded => Optimum::Unbounded,
        StageOutcome::TimedOut => Optimum::TimedOut,
    })
}

/// Solves the lexicographic stages of `plan`'s objective on `program`.
pub fn solve_program(
    plan: &Plan,
    program: &Program,
    options: &SolveOptions,
) -> Result<ProgramSolution, SolveError> {
    solve_program_with(plan, program, options, None)
}

/// [`solve_program`], first trying the optimal bases kept in `bases` (a batch's
/// earlier solves of programs of the same shape) on the first level of a linear
/// program, and keeping this solve's first-level basis there.
pub fn solve_program_with(
    plan: &Plan,
    program: &Program,
    options: &SolveOptions,
    bases: Option<&Bases>,
) -> Result<ProgramSolution, SolveError> {
    let mut first_stage = None;
    let mut reuse = None;
    let solution = solve_stages(plan, program, options, bases, &mut first_stage, &mut reuse)?;
    Ok(ProgramSolution {
        first_stage: first_stage.filter(|_| solution.values.is_some()),
        basis_reused: reuse.is_some(),
        basis_pivots: reuse.unwrap_or(0),
        ..solution
    })
}

/// How the later lexicographic levels keep the earlier ones at their optima.
// One value per solve, on the stack: the size of its larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Levels<'p> {
    /// A linear program: each level is solved over the optimal face of the
    /// previous one (variables fixed and rows made tight by complementary
    /// slackness at its exact vertex), so no objective row is added and no
    /// tolerance is needed: every level's plan is a vertex of the first level's
    /// optimal face.
    Faces(Cow<'p, Program>),
    /// Integer programs, and linear ones whose vertex could not be made exact:
    /// earlier optima held by one row each (docs/MODEL.md §2), on one engine session.
    Holds {
        solver: StageSolver<'p>,
        holds: Vec<Hold<'p>>,
    },
}

impl<'p> Levels<'p> {
    /// Levels held by rows on `program`, starting with the optima in `solved`.
    fn holding(program: &'p Program, solved: &[Hold<'p>]) -> Self {
        Levels::Holds {
            solver: StageSolver::new(program),
            holds: solved.to_vec(),
        }
    }
}

/// [`solve_program`], keeping the first stage's values in `first_stage` and, when
/// a kept basis settled the first level, the simplex pivots that took (0: it was
/// still optimal) in `reuse`.
fn solve_stages(
    plan: &Plan,
    program: &Program,
    options: &SolveOptions,
    bases: Option<&Bases>,
    first_stage: &mut Option<Vec<f64>>,
    reuse: &mut Option<usize>,
) -> Result<ProgramSolution, SolveError> {
    let deadline = options.time_limit.map(|limit| Instant::now() + limit);
    // With one gross margin for every driver, any two of revenue, spend and
    // contribution fix the third, so the third stage cannot change anything.
    let uniform_margin = plan
        .drivers
        .windows(2)
        .all(|pair| pair[0].gross_margin == pair[1].gross_margin);
    let totals: u32 = if uniform_margin { 2 } else { 3 };
    let stage_count = totals + u32::from(program.replan.is_some());
    // A re-plan may give up this share of the first level's optimum to move less.
    let first_loss = plan
        .replan
        .as_ref()
        .map_or(0.0, |replan| replan.max_objective_loss);

    let mut levels = if program.is_mixed_integer() {
        Levels::holding(program, &[])
    } else {
        Levels::Faces(Cow::Borrowed(program))
    };
    // Every level solved so far, at its optimum.
    let mut solved: Vec<Hold<'_>> = Vec::new();
    let mut best: Option<Vec<f64>> = None;
    let mut solved_stages = 0;
    // The level at which an integer program's levels stopped short.
    let mut partial: Option<&str> = None;
    for (direction, objective, label) in stages(plan.objective, program)
        .into_iter()
        .take(stage_count as usize)
    {
        // A linear level settled from a basis without an engine call: the
        // first from a kept basis (still optimal, or a few simplex pivots
        // away), a later one by primal pivots from the level before it on its
        // optimal face — when that keeps every earlier level.
        let maximise = direction == Direction::Maximise;
        let reused = match (&levels, bases, &best) {
            (Levels::Faces(face), Some(bases), _) if solved_stages == 0 => {
                bases.settle(face, maximise, objective)
            }
            (Levels::Faces(face), _, Some(earlier)) => {
                let shape = basis::BasisShape::at(face, earlier, basis::AT_BOUND);
                basis::optimum_from(face, maximise, objective, &shape)
                    .filter(|(vertex, ..)| solved.iter().all(|hold| hold.kept_by(&vertex.values)))
            }
            _ => None,
        };
        if solved_stages == 0 {
            *reuse = reused.as_ref().map(|&(.., pivots)| pivots);
        }
        if let Some((.., pivots)) = &reused {
            tracing::debug!(stage = label, pivots, "level settled from a basis");
        }
        let outcome = match &mut levels {
            Levels::Faces(_) if reused.is_some() => StageOutcome::Optimal(
                reused
                    .as_ref()
                    .map_or_else(Vec::new, |(vertex, ..)| vertex.values.clone()),
            ),
            Levels::Faces(face) => {
                let outcome = stage(face, &[], objective, direction, remaining(deadline));
                // A later level the face cannot answer is solved with the earlier
                // optima held by rows, on the plan's own program: when the engine
                // fails on the face, and when the face was taken too wide (a
                // reduced cost within round-off of zero that was not) so that
                // this level moved an earlier one past its allowance.
                let by_rows = match &outcome {
                    Err(error) if solved_stages > 0 => {
                        Some(format!("the level failed on the optimal face ({error})"))
                    }
                    Ok(StageOutcome::Optimal(values))
                        if !solved.iter().all(|hold| hold.kept_by(values)) =>
                    {
                        Some("the optimal face let an earlier level slip".to_string())
                    }
                    _ => None,
                };
                match by_rows {
                    Some(reason) => {
                        tracing::info!(stage = label, %reason, "holding the earlier optima by rows");
                        levels = Levels::holding(program, &solved);
                        let Levels::Holds { solver, holds } = &mut levels else {
                            unreachable!("just set")
                        };
                        contain(program.backend, || {
                            solve_holding(solver, holds, objective, direction, deadline)
                        })?
                    }
                    None => outcome?,
                }
            }
            Levels::Holds { solver, holds } => match contain(program.backend, || {
                if let Some(best) = &best {
                    solver.set_hint(best);
                }
                solve_holding(solver, holds, objective, direction, deadline)
            }) {
                Err(error) if best.is_some() && program.is_mixed_integer() => {
                    // The engine cannot hold the earlier integer optima however
                    // loosely: the later levels are optimised below with the
                    // whole units of the earlier optimum fixed.
                    tracing::warn!(%error, stage = label, "the level failed with integers; optimising it with the whole units fixed");
                    partial = Some(label);
                    break;
                }
                outcome => outcome?,
            },
        };
        tracing::debug!(stage = label, outcome = outcome.name(), "level solved");
        let mut values = match outcome {
            StageOutcome::Optimal(values) => values,
            StageOutcome::Unbounded => {
                let message = format!(
                    "{label} can grow without bound: add a budget cap or bounds on drivers"
                );
                return Ok(no_plan(Status::Unbounded, &message));
            }
            StageOutcome::Feasible { values, gap } => {
                let message = format!(
                    "time limit reached while optimising {label}; the best plan found is reported"
                );
                return finish(
                    program,
                    Status::TimeLimit,
                    values,
                    Some(gap),
                    solved_stages,
                    message,
                );
            }
            StageOutcome::Infeasible => {
                let Some(values) = best else {
                    return Ok(no_plan(
                        Status::Infeasible,
                        "no plan meets every constraint",
                    ));
                };
                // Only round-off can make a held stage infeasible: the earlier optimum
                // itself satisfies every hold.
                tracing::info!(stage = label, "holding the earlier stages made this stage infeasible; keeping the earlier optimum");
                return finish(
                    program,
                    Status::Optimal,
                    values,
                    None,
                    solved_stages,
                    "optimal".into(),
                );
            }
            StageOutcome::TimedOut => {
                let Some(values) = best else {
                    return Ok(no_plan(
                        Status::TimeLimit,
                        if program.is_mixed_integer() {
                            "time limit reached before any plan was found: no whole-unit plan \
                             found in time (allow more time, or solve with HiGHS)"
                        } else {
                            "time limit reached before any plan was found"
                        },
                    ));
                };
                let message = format!(
                    "time limit reached while optimising {label}; the plan is optimal for the earlier stages only"
                );
                return finish(
                    program,
                    Status::TimeLimit,
                    values,
                    None,
                    solved_stages,
                    message,
                );
            }
        };
        // A linear level's optimum is made an exact vertex, and the next level
        // is solved over its optimal face; where that cannot be done, the
        // remaining levels hold the optima by rows.
        let mut to_rows = false;
        // Whether this level's optimum is the only one, which settles the later
        // levels without solving them.
        let mut unique = false;
        if let Levels::Faces(face) = &mut levels {
            let vertex = match reused {
                Some((vertex, shape, _)) => {
                    if let (Some(bases), 0) = (bases, solved_stages) {
                        bases.record(shape);
                    }
                    Some(vertex)
                }
                None => {
                    let vertex = basis::exact_vertex(face, maximise, objective, &values);
                    if let (Some(vertex), Some(bases), 0) = (&vertex, bases, solved_stages) {
                        if vertex.face.is_some() {
                            bases.record(basis::BasisShape::at(
                                face,
                                &vertex.values,
                                basis::AT_BOUND,
                            ));
                        }
                    }
                    vertex
                }
            };
            match vertex {
                Some(vertex) => {
                    values = vertex.values;
                    match vertex.face {
                        Some(optimal) => {
                            unique = optimal.single_point;
                            // Only a later level needs the face; the plan's own
                            // program is copied once, at the first restriction.
                            if solved_stages + 1 < stage_count {
                                face.to_mut().restrict(&optimal);
                            }
                        }
                        None => to_rows = true,
                    }
                }
                None => to_rows = true,
            }
            if to_rows {
                tracing::debug!(
                    stage = label,
                    "no exact vertex or optimal basis; the later levels hold this optimum by a row"
                );
            }
        }
        let mut hold = Hold::at(objective, direction, &values);
        if solved_stages == 0 && first_loss > 0.0 {
            // The next level may leave the first level's optimal face by up to
            // the loss allowed: it is held by a row from here on.
            hold = hold.allowing(first_loss);
            to_rows = true;
            unique = false;
        }
        tracing::debug!(stage = label, optimum = hold.optimum, "level optimum");
        solved.push(hold);
        match &mut levels {
            Levels::Holds { holds, .. } => holds.push(hold),
            Levels::Faces(_) if to_rows => levels = Levels::holding(program, &solved),
            Levels::Faces(_) => {}
        }
        if solved_stages == 0 {
            *first_stage = Some(values.clone());
        }
        best = Some(values);
        solved_stages += 1;
        if unique {
            // The optimal face is this one vertex: every later level's feasible
            // set is that point, so its optimum is known without an engine call.
            tracing::debug!(stage = label, "a unique optimum settles the later levels");
            solved_stages = stage_count;
            break;
        }
    }
    match best {
        Some(values) if program.is_mixed_integer() => {
            let mut values = refine_continuous(plan, program, options, values);
            // The later integer levels hold the first with integers that need
            // only be within microlp's integrality tolerance (1e-6) of whole:
            // made whole, they can lose the first level more than its allowance
            // (15.9 of revenue in 114M on a realistic plan, where a millionth of
            // a unit is worth about 1 a driver-period). The first level's own
            // whole units then decide, with the later levels optimised over
            // the continuous part.
            if let (Some(first), Some(first_values)) = (solved.first(), first_stage.as_ref()) {
                if !first.kept_by(&values) {
                    let again = refine_continuous(plan, program, options, first_values.clone());
                    if first.shortfall(&again) < first.shortfall(&values) {
                        tracing::debug!(
                            lost = first.shortfall(&values),
                            "the later levels' whole units lose the first level; keeping the first level's"
                        );
                        values = again;
                    }
                }
            }
            let message = match partial {
                None => "optimal".to_string(),
                Some(label) => format!(
                    "optimal; {label} and later levels optimised with the whole units of the earlier levels' optimum fixed (the engine failed on them with whole units free)"
                ),
            };
            finish(
                program,
                Status::Optimal,
                values,
                None,
                solved_stages,
                message,
            )
        }
        Some(values) => finish(
            program,
            Status::Optimal,
            values,
            None,
            solved_stages,
            "optimal".into(),
        ),
        None => Ok(no_plan(
            Status::Infeasible,
            "no plan meets every constraint",
        )),
    }
}

/// An integer program's plan with its continuous part re-optimised exactly:
/// every level solved again over the linear program with the plan's whole units
/// (and segment-order binaries) fixed, level by level on optimal faces. The
/// integer levels hold earlier optima within a tolerance, so their continuous
/// part can sit a little off the optimum (0.017 of a USD unit past a minimum on
/// a realistic plan); with the integers fixed the first objective can only be
/// as good or better, and the plan lands on an exact vertex. Where that solve
/// fails, the values are kept as they are.
fn refine_continuous(
    plan: &Plan,
    program: &Program,
    options: &SolveOptions,
    values: Vec<f64>,
) -> Vec<f64> {
    let mut whole = program.with_full_segments_marked(values.clone());
    clean(program, &mut whole, 0.0);
    let fixed = program.with_integers_fixed(&whole);
    let (mut ignored, mut reused) = (None, None);
    match solve_stages(plan, &fixed, options, None, &mut ignored, &mut reused) {
        Ok(ProgramSolution {
            status: Status::Optimal,
            values: Some(refined),
            ..
        }) => refined,
        other => {
            tracing::debug!(
                ?other,
                "the continuous part could not be re-optimised; keeping the integer levels' plan"
            );
            values
        }
    }
}

/// How far (relative) a later level may move an earlier level's objective from its
/// optimum (docs/MODEL.md §2).
const LEVEL_ALLOWANCE: f64 = 1e-9;

/// An earlier stage held at its optimum while later stages run.
#[derive(Clone, Copy)]
struct Hold<'a> {
    objective: &'a LinExpr,
    direction: Direction,
    optimum: f64,
    tolerance: f64,
    /// What later levels may give up of it, relative to max(1, |optimum|):
    /// [`LEVEL_ALLOWANCE`], or a re-plan's `max_objective_loss` on the first.
    allowance: f64,
}

impl<'a> Hold<'a> {
    /// `objective` held exactly at its value at `values`.
    fn at(objective: &'a LinExpr, direction: Direction, values: &[f64]) -> Self {
        Hold {
            objective,
            direction,
            optimum: objective.eval(values),
            tolerance: HOLD_TOLERANCES[0],
            allowance: LEVEL_ALLOWANCE,
        }
    }

    /// The same hold, letting later levels give up `share` of max(1, |optimum|)
    /// (docs/MODEL.md §6, `max_objective_loss`).
    fn allowing(self, share: f64) -> Self {
        Hold {
            tolerance: self.tolerance.max(share),
            allowance: self.allowance.max(share),
            ..self
        }
    }

    /// Whether `values` keep the objective within the allowance later levels
    /// have (docs/MODEL.md §2: 1e-9 of max(1, |optimum|); §6 a re-plan's loss).
    fn kept_by(&self, values: &[f64]) -> bool {
        self.shortfall(values) <= self.allowance * self.optimum.abs().max(1.0)
    }

    /// How far `values` leave the objective short of its optimum (negative:
    /// beyond it).
    fn shortfall(&self, values: &[f64]) -> f64 {
        let value = self.objective.eval(values);
        match self.direction {
            Direction::Maximise => self.optimum - value,
            Direction::Minimise => value - self.optimum,
        }
    }

    /// The row that keeps the objective within `tolerance * max(1, |optimum|)` of
    /// its optimum.
    fn row(&self) -> Row {
        let slack = self.tolerance * self.optimum.abs().max(1.0);
        let (sense, bound) = match self.direction {
            Direction::Maximise => (Sense::GreaterEqual, self.optimum - slack),
            Direction::Minimise => (Sense::LessEqual, self.optimum + slack),
        };
        Row {
            expr: self.objective.clone().without_constant(),
            sense,
            rhs: bound - self.objective.constant,
        }
    }
}

/// Solves one stage with the earlier stages held at their optima, loosening the holds
/// when round-off makes them infeasible.
fn solve_holding(
    solver: &mut StageSolver<'_>,
    holds: &mut [Hold<'_>],
    objective: &LinExpr,
    direction: Direction,
    deadline: Option<Instant>,
) -> Result<StageOutcome, SolveError> {
    let rows = |holds: &[Hold<'_>]| holds.iter().map(Hold::row).collect::<Vec<_>>();
    let mut outcome = solver.solve(&rows(holds), objective, direction, remaining(deadline));
    for &tolerance in &HOLD_TOLERANCES[1..] {
        // Round-off in any earlier optimum can make the holds jointly infeasible,
        // and an exact hold makes the program degenerate enough for an engine
        // to fail numerically ("Singular matrix" in microlp's branch and bound):
        // loosen them all, never beyond this tolerance.
        match &outcome {
            _ if holds.is_empty() => break,
            Ok(StageOutcome::Infeasible) => {}
            Err(SolveError::Backend(error)) => {
                tracing::debug!(%error, tolerance, "the engine failed on the held level; loosening the holds");
            }
            _ => break,
        }
        for hold in holds.iter_mut() {
            hold.tolerance = hold.tolerance.max(tolerance);
        }
        outcome = solver.solve(&rows(holds), objective, direction, remaining(deadline));
    }
    outcome
}

/// The time left until an optional deadline (zero once it has passed): the time
/// limit to hand a solve that must end by then. Zero, deadline or not, once the
/// thread's [`CancelToken`] is cancelled: the caller has gone away.
pub fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    if cancel::cancelled() {
        return Some(Duration::ZERO);
    }
    deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

/// Whether work that must end by `deadline` has to stop now: the deadline has
/// passed, or the thread's [`CancelToken`] is cancelled.
pub fn expired(deadline: Option<Instant>) -> bool {
    cancel::cancelled() || deadline.is_some_and(|deadline| Instant::now() >= deadline)
}

/// One stage solve through the backend, unless the request was cancelled: every
/// solve goes through here, so a cancelled request starts no new one.
fn stage(
    program: &Program,
    holds: &[Row],
    objective: &LinExpr,
    direction: Direction,
    time_limit: Option<Duration>,
) -> Result<StageOutcome, SolveError> {
    if cancel::cancelled() {
        return Ok(StageOutcome::TimedOut);
    }
    contain(program.backend, || {
        backend::solve_stage(program, holds, objective, direction, time_limit, None)
    })
}

/// Runs one call into a solver engine, turning a panic into [`SolveError::Backend`].
///
/// microlp asserts on some ill-conditioned programs (a dual edge norm that
/// overflows, say); a plan that provokes one must get an error, not take down the
/// CLI, a test or a fuzz target. The server's pool catches panics too, but only as
/// a last resort for the whole call. The engine's state is dropped with the call.
pub(crate) fn contain<T>(
    engine: Backend,
    call: impl FnOnce() -> Result<T, SolveError>,
) -> Result<T, SolveError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).unwrap_or_else(|payload| {
        let message = crate::pool::panic_message(payload.as_ref());
        tracing::warn!(engine = engine.name(), %message, "the solver panicked");
        Err(SolveError::Backend(format!(
            "{} panicked: {message}",
            engine.name()
        )))
    })
}

fn no_plan(status: Status, message: &str) -> ProgramSolution {
    ProgramSolution {
        status,
        values: None,
        relative_gap: None,
        stages: 0,
        message: message.to_string(),
        first_stage: None,
        basis_reused: false,
        basis_pivots: 0,
    }
}

fn finish(
    program: &Program,
    status: Status,
    values: Vec<f64>,
    relative_gap: Option<f64>,
    stages: u32,
    message: String,
) -> Result<ProgramSolution, SolveError> {
    // An integer plan's continuous part is made an exact vertex of the program
    // with its whole units fixed, so that what binds is decided exactly.
    let values = if program.is_mixed_integer() {
        let mut rounded = program.with_full_segments_marked(values.clone());
        clean(program, &mut rounded, 0.0);
        basis::polished(&program.with_integers_fixed(&rounded), &rounded).unwrap_or(rounded)
    } else {
        values
    };
    // Prefer values with solver noise (a millionth of a unit) removed; keep the raw
    // ones if removing it would break a row.
    let mut snapped = values.clone();
    clean(program, &mut snapped, NOISE);
    let values = if verify_quietly(program, &snapped) {
        snapped
    } else {
        let mut values = values;
        clean(program, &mut values, 1e-9);
        verify(program, &values)?;
        values
    };
    Ok(ProgramSolution {
        status,
        values: Some(values),
        relative_gap,
        stages,
        message,
        first_stage: None,
        basis_reused: false,
        basis_pivots: 0,
    })
}

/// Units closer than this to a bound are solver round-off, not a decision.
const NOISE: f64 = 1e-6;

/// Snaps integer variables to whole numbers and values within `tolerance` (relative,
/// at least absolute) of a bound onto the bound, so reports show 50, not
/// 49.99999999997, and 0, not 8.9e-8. A value outside its bounds by no more
/// than the verification allows goes onto the bound whatever `tolerance`:
/// units below zero are no plan, and on a driver costing millions a unit
/// 2e-9 of a unit below zero is money enough to meet a spend floor of 0.01
/// where no spend is possible (a realistic plan microlp called optimal).
/// The rows are then verified on the plan as it is reported.
fn clean(program: &Program, values: &mut [f64], tolerance: f64) {
    for (value, var) in values.iter_mut().zip(&program.vars) {
        if var.integer && (*value - value.round()).abs() <= VERIFY_TOLERANCE {
            *value = value.round();
        }
        let near = |bound: f64| (*value - bound).abs() <= tolerance * bound.abs().max(1.0);
        let noise = VERIFY_TOLERANCE * value.abs().max(1.0);
        if near(var.lower) || (*value < var.lower && var.lower - *value <= noise) {
            *value = var.lower;
        } else if var.upper.is_finite()
            && (near(var.upper) || (*value > var.upper && *value - var.upper <= noise))
        {
            *value = var.upper;
        }
    }
}

/// Whether `values` meet every row within a tolerance a thousand times tighter than
/// [`VERIFY_TOLERANCE`]: snapping away noise must not move a plan towards a bound's
/// wrong side by more than round-off.
fn verify_quietly(program: &Program, values: &[f64]) -> bool {
    first_violation(program, values, VERIFY_TOLERANCE * 1e-3).is_none()
}

/// Whether `values`, each put inside its bounds, meet every row within
/// [`VERIFY_TOLERANCE`], as every reported plan does: a plan that is feasible as
/// a plan of units, not only within an engine's tolerance on its bounds. (A
/// thousandth of it refused an engine's noisy but sound answers near an edge,
/// and bisections then ran far past the edge.) An engine may return units a
/// ten-millionth below zero; on a driver costing 40,000 a unit, over hundreds of
/// driver-periods, that is money enough to move the edge of a ratio bound by
/// 2e-6 of itself (a realistic plan's `min_roi`, found feasible by microlp 6.5e-6
/// past the point where HiGHS and an exact vertex say it stops).
pub fn feasible_within_bounds(program: &Program, values: &[f64]) -> bool {
    let clamped: Vec<f64> = values
        .iter()
        .zip(&program.vars)
        .map(|(value, var)| value.clamp(var.lower, var.upper.max(var.lower)))
        .collect();
    first_violation(program, &clamped, VERIFY_TOLERANCE).is_none()
}

/// Re-checks `values` against every bound, integrality and row of the program.
pub fn verify(program: &Program, values: &[f64]) -> Result<(), SolveError> {
    match first_violation(program, values, VERIFY_TOLERANCE) {
        None => Ok(()),
        Some((constraint, violation)) => {
            tracing::error!(%constraint, violation, "solver returned a plan that breaks a constraint");
            Err(SolveError::Verification {
                constraint,
                violation,
            })
        }
    }
}

/// The first bound, integrality or row that `values` break by more than
/// `tolerance` (relative), with the relative violation.
fn first_violation(program: &Program, values: &[f64], tolerance: f64) -> Option<(String, f64)> {
    if values.len() != program.vars.len() || values.iter().any(|value| !value.is_finite()) {
        return Some(("the variable values".into(), f64::INFINITY));
    }
    for (index, (value, var)) in values.iter().zip(&program.vars).enumerate() {
        let scale = value.abs().max(1.0);
        let outside = (var.lower - value).max(value - var.upper).max(0.0) / scale;
        if outside > tolerance {
            return Some((format!("the bounds of variable {index}"), outside));
        }
        let fraction = (value - value.round()).abs();
        if var.integer && fraction > tolerance {
            return Some((format!("the integrality of variable {index}"), fraction));
        }
    }
    for (index, row) in program.rows.iter().enumerate() {
        let relative = row.violation(values) / row.scale(values);
        if relative > tolerance {
            let name = program
                .named
                .iter()
                .find(|named| named.row == index)
                .map_or_else(
                    || format!("structural row {index}"),
                    |named| named.name.clone(),
                );
            return Some((name, relative));
        }
    }
    None
}

#[cfg(test)]
mod tests;
