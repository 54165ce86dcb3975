//! What to relax when a plan is infeasible: plain impossibilities named at once, the
//! nearest bound of each relaxable constraint that alone makes the plan feasible,
//! and one combined smallest relaxation.

use std::time::{Duration, Instant};

use crate::model::{Plan, Sense};
use crate::program::{BoundUnit, LinExpr, Measure, Program, Row, Var};
use crate::solve::{feasible_within_bounds, optimize_expr, remaining, Optimum, SolveError};

/// The diagnosis of an infeasible plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagnosis {
    /// Plain impossibilities found before solving anything, in words.
    pub audit: Vec<String>,
    /// One entry per relaxable named constraint, in program order.
    pub relaxations: Vec<Relaxation>,
    /// Whether the combined relaxation is proven smallest: true when no margin, ROI
    /// or share bound had to move (it is then a linear program).
    pub combined_exact: bool,
    /// Whether any combined relaxation was found.
    pub combined_found: bool,
    /// Why part of the diagnosis is missing (`None` when nothing is).
    pub note: Option<String>,
}

/// How one constraint could be relaxed.
#[derive(Debug, Clone, PartialEq)]
pub struct Relaxation {
    /// docs/MODEL.md §3 name.
    pub name: String,
    /// What the bound counts.
    pub unit: BoundUnit,
    /// The bound as written.
    pub bound: f64,
    /// The nearest bound that alone makes the plan feasible; `None`: moving this
    /// bound alone cannot.
    pub alone: Option<f64>,
    /// The bound in the combined relaxation (equal to `bound` when it stays).
    pub combined: Option<f64>,
    /// Why `alone` is unknown (`None` when it is decided).
    pub undecided: Option<String>,
}

impl Diagnosis {
    /// What can be said of an infeasible plan whose diagnosis could not be
    /// computed: the plain impossibilities, and why the rest is missing.
    pub fn unavailable(plan: &Plan, error: &SolveError) -> Diagnosis {
        Diagnosis {
            audit: audit(plan),
            note: Some(format!("no diagnosis of what to relax: {error}")),
            ..Diagnosis::default()
        }
    }
}

/// Bisection steps when a bound is relaxed alone by bisection (a ratio bound,
/// or a linear one whose engine's extreme holds only within its tolerance).
const EDGE_BISECTIONS: usize = 40;

/// Diagnoses an infeasible plan whose program is `program`.
pub fn diagnose(
    plan: &Plan,
    program: &Program,
    time_limit: Option<Duration>,
) -> Result<Diagnosis, SolveError> {
    let deadline = time_limit.map(|limit| Instant::now() + limit);
    let left = || remaining(deadline);
    let relaxable: Vec<usize> = program
        .named
        .iter()
        .enumerate()
        .filter(|(_, named)| named.source.is_relaxable())
        .map(|(index, _)| index)
        .collect();

    // A relaxed program the engines fail on leaves that one answer unknown,
    // said so, not the whole diagnosis; a spent time budget ends it.
    let mut relaxations = Vec::with_capacity(relaxable.len());
    for &index in &relaxable {
        let named = &program.named[index];
        let (alone, undecided) = match relax_alone(program, index, left()) {
            Ok(alone) => (alone, None),
            Err(SolveError::OutOfTime) => return Err(SolveError::OutOfTime),
            Err(error) => {
                tracing::warn!(constraint = %named.name, %error, "relaxing alone failed");
                (None, Some(error.to_string()))
            }
        };
        relaxations.push(Relaxation {
            name: named.name.clone(),
            unit: named.source.unit(),
            bound: named.bound,
            alone,
            combined: None,
            undecided,
        });
    }
    let mut note = None;
    let combined = combined_relaxation(program, &relaxable, false, left())
        .map(|bounds| bounds.map(|bounds| (bounds, true)))
        .and_then(|found| match found {
            Some(found) => Ok(Some(found)),
            None => Ok(combined_relaxation(program, &relaxable, true, left())?
                .map(|bounds| (bounds, false))),
        });
    let (combined, exact) = match combined {
        Ok(Some((bounds, exact))) => (Some(bounds), exact),
        Ok(None) => (None, false),
        Err(error) => {
            tracing::warn!(%error, "no combined relaxation");
            note = Some(format!("no combined relaxation: {error}"));
            (None, false)
        }
    };
    let combined_found = combined.is_some();
    if let Some(bounds) = combined {
        for (relaxation, bound) in relaxations.iter_mut().zip(bounds) {
            relaxation.combined = Some(bound);
        }
    }
    let mut audit = audit(plan);
    let locks = plan
        .replan
        .as_ref()
        .is_some_and(|replan| replan.locked.iter().any(|&locked| locked));
    let named_a_lock = audit
        .iter()
        .any(|finding| finding.contains(" is locked at "));
    if locks && !combined_found && note.is_none() && !named_a_lock {
        audit.push(
            "the locked commitments alone make the plan infeasible: no relaxation of the \
             relaxable constraints meets them (locks are never relaxed)"
                .into(),
        );
    }
    Ok(Diagnosis {
        audit,
        relaxations,
        combined_exact: exact && combined_found,
        combined_found,
        note,
    })
}

/// Whether some plan meets every constraint of `program`: the engine found one,
/// and it holds with every unit inside its bounds (see
/// [`feasible_within_bounds`]), so that the edge of a bisected bound is where
/// plans of units stop, not where an engine's tolerance on bounds stops.
fn feasible(program: &Program, time_limit: Option<Duration>) -> Result<bool, SolveError> {
    Ok(
        match optimize_expr(program, &LinExpr::default(), true, time_limit)? {
            Optimum::Value(_, values) => feasible_within_bounds(program, &values),
            _ => false,
        },
    )
}

/// The nearest bound of constraint `index` that alone makes the program feasible.
fn relax_alone(
    program: &Program,
    index: usize,
    time_limit: Option<Duration>,
) -> Result<Option<f64>, SolveError> {
    let named = &program.named[index];
    let (lowest, highest) = named.source.domain().range();
    match &named.measure {
        Measure::Linear(expr) => {
            // Without the row, how far can the measure go towards the bound?
            let without = without_row(program, index);
            // The same question asked of the program with the bound moved to the end
            // of its domain instead of dropped: another program for the engine (other
            // pivots) with the same answer within the domain, tried when the engine
            // fails on the first.
            let at_end = program.with_bound(
                index,
                match named.sense {
                    Sense::LessEqual => highest,
                    _ => lowest,
                },
            );
            // The measure's extreme, and whether the plan reaching it holds as a
            // plan of units (see `feasible`).
            let towards = |maximise: bool| -> Result<Option<(f64, bool)>, SolveError> {
                // Whether the answer already came from `at_end`.
                let mut from_end = false;
                let optimum = match optimize_expr(&without, expr, maximise, time_limit) {
                    Err(SolveError::Backend(error)) => {
                        // Without the row the plan may be infeasible outright: a
                        // feasibility question (its own starts) settles that first.
                        tracing::debug!(%error, "engine failed; asking feasibility, then with the bound at its domain's end");
                        if !feasible(&without, time_limit)? {
                            return Ok(None);
                        }
                        if named.sense == Sense::Equal {
                            return Err(SolveError::Backend(error));
                        }
                        from_end = true;
                        optimize_expr(&at_end, expr, maximise, time_limit)?
                    }
                    optimum => optimum?,
                };
                Ok(match optimum {
                    Optimum::Value(value, values) => {
                        let holds = feasible_within_bounds(&without, &values);
                        // A second opinion from the program with the bound at its
                        // domain's end: HiGHS answered a budget cap's least spend
                        // 26 % too high on the program without the row (and on it
                        // with the row removed), right with the row far out
                        // (realistic plan, seed 29907943721). Each answer is a plan
                        // of the program without the row, so the more extreme of
                        // those that hold is the nearer to the true extreme.
                        let second = if named.sense == Sense::Equal || from_end {
                            None
                        } else {
                            match optimize_expr(&at_end, expr, maximise, time_limit) {
                                Ok(Optimum::Value(other, others))
                                    if feasible_within_bounds(&without, &others) =>
                                {
                                    Some(other)
                                }
                                Err(SolveError::OutOfTime) => return Err(SolveError::OutOfTime),
                                _ => None,
                            }
                        };
                        match second {
                            Some(other) if !holds => Some((other, true)),
                            Some(other) if (other > value) == maximise && other != value => {
                                tracing::debug!(value, other, "the second opinion is more extreme");
                                Some((other, true))
                            }
                            _ => Some((value, holds)),
                        }
                    }
                    Optimum::Unbounded => Some((if maximise { highest } else { lowest }, true)),
                    Optimum::Infeasible | Optimum::TimedOut => None,
                })
            };
            let nearest = match named.sense {
                Sense::LessEqual => towards(false)?,
                Sense::GreaterEqual => towards(true)?,
                Sense::Equal => match (towards(false)?, towards(true)?) {
                    (Some((low, low_holds)), Some((high, high_holds))) => {
                        Some((named.bound.clamp(low, high), low_holds && high_holds))
                    }
                    _ => None,
                },
            };
            let domain = lowest..=highest;
            match nearest {
                Some((extreme, true)) => Ok(Some(extreme).filter(|bound| domain.contains(bound))),
                // The engine's extreme is reached only within its tolerance (a
                // whole-unit program, whose plans are not polished into exact
                // vertices: microlp's tolerance on rows let a revenue target of
                // 0.0001 count as met where the group shares allow no spend at
                // all): the edge is bisected between the bound and the nearest
                // of the extreme and the domain's end that holds as a plan.
                Some((extreme, false)) if named.sense != Sense::Equal => {
                    let loosest = match named.sense {
                        Sense::LessEqual => highest,
                        _ => lowest,
                    };
                    let extreme = extreme.clamp(lowest, highest);
                    for end in [extreme, loosest] {
                        if end.is_finite() && feasible(&program.with_bound(index, end), time_limit)?
                        {
                            return bisect_edge(program, index, named.bound, end, time_limit)
                                .map(Some);
                        }
                    }
                    Ok(None)
                }
                Some((extreme, false)) => Ok(Some(extreme).filter(|bound| domain.contains(bound))),
                None => Ok(None),
            }
        }
        Measure::Ratio {
            numerator,
            denominator,
        } => {
            // Feasibility is monotone in a ratio bound: bisect between the bound and
            // the loosest value its domain allows.
            let loosest = match named.sense {
                Sense::LessEqual => highest,
                _ => lowest,
            };
            if !feasible(&program.with_bound(index, loosest), time_limit)? {
                return Ok(None);
            }
            // The edge exactly, where the ratio's extreme is reached; bisection
            // where that does not settle it.
            let extreme = ratio_extreme(program, index, numerator, denominator, time_limit)?;
            let within = |edge: f64| match named.sense {
                Sense::LessEqual => (named.bound..=loosest).contains(&edge),
                _ => (loosest..=named.bound).contains(&edge),
            };
            match extreme {
                Some((edge, true)) if within(edge) => Ok(Some(edge)),
                // Not settled within its steps: a feasible end nearer than the
                // domain's for the bisection.
                Some((nearer, false)) if within(nearer) => {
                    bisect_edge(program, index, named.bound, nearer, time_limit).map(Some)
                }
                _ => bisect_edge(program, index, named.bound, loosest, time_limit).map(Some),
            }
        }
    }
}

/// `program` with named constraint `index`'s row emptied (`0 <= 0`): the plan
/// without that constraint, every other row where it was.
fn without_row(program: &Program, index: usize) -> Program {
    let mut without = program.clone();
    without.rows[program.named[index].row] = Row::new(LinExpr::default(), Sense::LessEqual, 0.0);
    without
}

/// Most Dinkelbach steps towards a ratio's extreme (each an engine solve;
/// piecewise-linear programs need a handful).
const RATIO_STEPS: usize = 20;

/// The extreme of ratio constraint `index`'s measure `numerator / denominator`
/// over the program without its row — the least a `<=` bound can be, the most
/// a `>=` one can — which is where the bound alone makes the program feasible:
/// Dinkelbach's method. With `s` a ratio some plan reaches, the plan that
/// minimises (maximises) `numerator - s * denominator` reaches a ratio at
/// least as extreme; repeated, the ratios reach the extreme in a few steps
/// (each is Newton's step on the optimum as a function of `s`, concave and
/// piecewise linear). Every step's plan meets the ratio it gives exactly, so
/// the answer is certified by a plan of units that meets every row, not by
/// an engine's word at a bisected bound (which lands within the engine's
/// tolerance of the edge: a group share 5e-6 short of HiGHS's edge on
/// microlp). The extreme found, with whether the steps settled on it (if not,
/// it is a ratio some plan reaches, nearer the edge than the domain's end);
/// `None` when no step gave a plan to go by (a denominator not positive, an
/// engine failure, an unbounded step): the caller bisects.
fn ratio_extreme(
    program: &Program,
    index: usize,
    numerator: &LinExpr,
    denominator: &LinExpr,
    time_limit: Option<Duration>,
) -> Result<Option<(f64, bool)>, SolveError> {
    let named = &program.named[index];
    let least = named.sense == Sense::LessEqual;
    if named.sense == Sense::Equal {
        return Ok(None);
    }
    let without = without_row(program, index);
    // The bound as written: no plan reaches it; the first step's ratio is
    // past the extreme on the feasible side, and every later one nearer.
    let mut ratio = named.bound;
    let mut reached: Option<f64> = None;
    for _ in 0..RATIO_STEPS {
        let objective = numerator.clone().plus_scaled(denominator, -ratio);
        let unsettled = reached.map(|ratio| (ratio, false));
        let values = match optimize_expr(&without, &objective, !least, time_limit) {
            Ok(Optimum::Value(_, values)) => values,
            Ok(_) => return Ok(unsettled),
            Err(SolveError::OutOfTime) => return Err(SolveError::OutOfTime),
            Err(error) => {
                tracing::debug!(%error, "a step towards the ratio's extreme failed; bisecting");
                return Ok(unsettled);
            }
        };
        let bottom = denominator.eval(&values);
        if bottom.is_nan() || bottom <= 0.0 {
            return Ok(unsettled);
        }
        let next = numerator.eval(&values) / bottom;
        // The plan must hold as a plan of units with the bound at its ratio.
        if !next.is_finite() || !feasible_within_bounds(&program.with_bound(index, next), &values) {
            return Ok(unsettled);
        }
        let settled = reached.is_some_and(|earlier| {
            let gain = if least {
                earlier - next
            } else {
                next - earlier
            };
            gain <= 1e-12 * earlier.abs().max(1.0)
        });
        reached = Some(match reached {
            Some(earlier) if least => earlier.min(next),
            Some(earlier) => earlier.max(next),
            None => next,
        });
        if settled {
            return Ok(reached.map(|ratio| (ratio, true)));
        }
        ratio = next;
    }
    Ok(reached.map(|ratio| (ratio, false)))
}

/// The edge between bounds of constraint `index` where the program is
/// infeasible (`infeasible`) and where it is feasible (`feasible_at`), found by
/// bisection (feasibility is monotone in one bound): the feasible end of the
/// last bracket.
fn bisect_edge(
    program: &Program,
    index: usize,
    mut infeasible: f64,
    mut feasible_at: f64,
    time_limit: Option<Duration>,
) -> Result<f64, SolveError> {
    for _ in 0..EDGE_BISECTIONS {
        // Any point inside the bracket narrows it: where the engine fails on
        // the middle, a point a quarter of the way from either end is asked.
        let mut outcome = None;
        for fraction in [0.5, 0.25, 0.75] {
            let probe = infeasible + (feasible_at - infeasible) * fraction;
            match feasible(&program.with_bound(index, probe), time_limit) {
                Ok(answer) => {
                    outcome = Some((probe, answer));
                    break;
                }
                Err(SolveError::Backend(error)) if fraction != 0.75 => {
                    tracing::debug!(%error, probe, "engine failed; probing elsewhere");
                }
                Err(error) => return Err(error),
            }
        }
        match outcome {
            Some((probe, true)) => feasible_at = probe,
            Some((probe, false)) => infeasible = probe,
            None => break,
        }
    }
    Ok(feasible_at)
}

/// The relaxation minimising the sum of relative changes `|change| / max(1, |bound|)`
/// over the constraints in `relaxable`: an elastic program. Ratio bounds move only
/// when `with_ratios`, through an elastic term on their linear row, so the result is
/// then the best found rather than proven smallest. Returns the new bound of each
/// relaxable constraint, in order.
fn combined_relaxation(
    program: &Program,
    relaxable: &[usize],
    with_ratios: bool,
    time_limit: Option<Duration>,
) -> Result<Option<Vec<f64>>, SolveError> {
    let mut elastic = program.clone();
    let mut objective = LinExpr::default();
    // For each relaxable constraint: its (raise, lower) elastic variables.
    let mut slack_vars: Vec<(Option<usize>, Option<usize>)> = Vec::with_capacity(relaxable.len());
    for &index in relaxable {
        let named = &program.named[index];
        let is_ratio = matches!(named.measure, Measure::Ratio { .. });
        if is_ratio && !with_ratios {
            slack_vars.push((None, None));
            continue;
        }
        let weight = 1.0 / named.bound.abs().max(1.0);
        let mut add = |elastic: &mut Program, coefficient: f64| {
            elastic.vars.push(Var {
                lower: 0.0,
                upper: f64::INFINITY,
                integer: false,
            });
            let var = elastic.vars.len() - 1;
            elastic.rows[named.row].expr.add(var, coefficient);
            objective.add(var, weight);
            var
        };
        // A row `expr <= rhs` is relaxed by raising its bound: `expr - e <= rhs`.
        slack_vars.push(match named.sense {
            Sense::LessEqual => (Some(add(&mut elastic, -1.0)), None),
            Sense::GreaterEqual => (None, Some(add(&mut elastic, 1.0))),
            Sense::Equal => (Some(add(&mut elastic, -1.0)), Some(add(&mut elastic, 1.0))),
        });
    }
    let values = match optimize_expr(&elastic, &objective, false, time_limit)? {
        Optimum::Value(_, values) => values,
        _ => return Ok(None),
    };
    let amount = |var: Option<usize>| var.and_then(|var| values.get(var)).copied().unwrap_or(0.0);
    let bounds = relaxable
        .iter()
        .zip(&slack_vars)
        .map(|(&index, &(raise, lower))| {
            let named = &program.named[index];
            match &named.measure {
                Measure::Linear(_) => named.bound + amount(raise) - amount(lower),
                Measure::Ratio { .. } if amount(raise) + amount(lower) > 0.0 => {
                    // The ratio the relaxed plan reaches, never tighter than asked.
                    let reached = named.measure.eval(&values[..program.vars.len()]);
                    match named.sense {
                        Sense::LessEqual => reached.max(named.bound),
                        _ => reached.min(named.bound),
                    }
                }
                Measure::Ratio { .. } => named.bound,
            }
        })
        .collect();
    Ok(Some(bounds))
}

/// Plain impossibilities that need no solve: driver minimums that cost more than a
/// budget cap, and a revenue target above what every driver at its maximum reaches.
fn audit(plan: &Plan) -> Vec<String> {
    let periods = plan.periods.len();
    let mut findings = Vec::new();
    let minimum_spend: f64 = plan
        .drivers
        .iter()
        .map(|driver| {
            (0..periods)
                .map(|t| {
                    driver.min_units.get(t).copied().unwrap_or(0.0)
                        * driver.realised_cost(t, periods)
                })
                .sum::<f64>()
        })
        .sum();
    if let Some(cap) = plan.budget_cap {
        if minimum_spend > cap * (1.0 + 1e-9) {
            findings.push(format!(
                "driver minimums alone cost {minimum_spend:.2}, above budget_cap {cap:.2}"
            ));
        }
    }
    for (t, period) in plan.periods.iter().enumerate() {
        let Some(cap) = period.budget_cap else {
            continue;
        };
        let paid: f64 = plan
            .drivers
            .iter()
            .map(|driver| {
                (0..=t)
                    .map(|s| {
                        driver.min_units.get(s).copied().unwrap_or(0.0)
                            * driver.unit_cost
                            * driver.cost_profile.get(t - s).copied().unwrap_or(0.0)
                    })
                    .sum::<f64>()
            })
            .sum();
        if paid > cap * (1.0 + 1e-9) {
            findings.push(format!(
                "driver minimums alone cost {paid:.2} in {}, above period[{}].budget_cap {cap:.2}",
                period.name, period.name
            ));
        }
    }
    if let Some(replan) = &plan.replan {
        // Locked units outside a bound no diagnosis may move (docs/MODEL.md §6).
        for (i, driver) in plan.drivers.iter().enumerate() {
            for (t, period) in plan.periods.iter().enumerate() {
                let locked = replan.current_units(i, t);
                let cap = driver.max_units.get(t).copied().flatten();
                if let Some(cap) = cap.filter(|&cap| replan.is_locked(t) && locked > cap) {
                    findings.push(format!(
                        "driver[{}] is locked at {locked} units in {}, above its max_units {cap}: \
                         the locked commitments alone make the plan infeasible",
                        driver.id, period.name
                    ));
                }
            }
        }
    }
    if let Some(target) = plan.requirements.revenue_target {
        let baseline: f64 = plan
            .periods
            .iter()
            .map(|period| period.baseline_revenue)
            .sum();
        let reachable: Option<f64> = plan
            .drivers
            .iter()
            .enumerate()
            .map(|(i, driver)| {
                let best_rate = driver
                    .response
                    .first()
                    .map_or(0.0, |segment| segment.revenue_per_unit);
                (0..periods)
                    .map(|t| {
                        let bound = plan.unit_bound(i, t)?;
                        Some(bound * best_rate * driver.realised_return(t, periods))
                    })
                    .sum::<Option<f64>>()
            })
            .sum();
        if let Some(reachable) = reachable {
            let most = baseline + reachable;
            if target > most * (1.0 + 1e-9) {
                findings.push(format!(
                    "revenue_target {target:.2} is above the {most:.2} that baseline revenue and every driver at its maximum can reach"
                ));
            }
        }
    }
    findings
}
