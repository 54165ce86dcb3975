//! Exact frontiers: the optimal value as a function of one bound.
//!
//! For a budget cap or a revenue target the first objective is piecewise linear in
//! the bound; the sweep follows the slopes (shadow prices) from one breakpoint to the
//! next, so every breakpoint is exact (up to solver round-off) and none is missed by
//! a grid. A margin floor bends the curve between breakpoints; there the sweep
//! samples the curve and locates, by bisection, every bound where the driver mix
//! changes.

use std::time::{Duration, Instant};

use crate::analysis::{solve_with, PlanReport};
use crate::explain::rate_ahead;
use crate::model::{Domain, Objective, Plan};
use crate::program::{ConstraintSource, Program};
use crate::solve::{
    build_program, expired, remaining, Bases, SolveError, SolveOptions, SolverChoice, Status,
};

/// The bound a frontier sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// `budget_cap`
    BudgetCap,
    /// `requirements.min_margin`
    MinMargin,
    /// `requirements.revenue_target`
    RevenueTarget,
    /// `drivers[i].max_active`, the same cap in every period (docs/MODEL.md §5).
    MaxActive(usize),
    /// `replan.max_change` of a re-plan (docs/MODEL.md §6): the revenue-versus-
    /// disruption curve.
    MaxChange,
    /// `uncertainty.confidence` (docs/MODEL.md §7): with `MINIMIZE_SPEND`, the
    /// budget that makes quota at each confidence.
    Confidence,
}

impl Sweep {
    /// The bound's name: the docs/MODEL.md §3 name of its constraint, or for a cap
    /// in seat the driver's caps without their period (`driver[ae].max_active`).
    pub fn name(self, plan: &Plan) -> String {
        match self {
            Sweep::BudgetCap => "budget_cap".into(),
            Sweep::MinMargin => "requirements.min_margin".into(),
            Sweep::RevenueTarget => "requirements.revenue_target".into(),
            Sweep::MaxChange => "replan.max_change".into(),
            Sweep::Confidence => "uncertainty.confidence".into(),
            Sweep::MaxActive(i) => {
                let id = plan.drivers.get(i).map_or("", |driver| driver.id.as_str());
                format!("driver[{id}].max_active")
            }
        }
    }

    /// The one constraint it moves, when it is one: a cap in seat is one row per
    /// period.
    pub fn source(self) -> Option<ConstraintSource> {
        match self {
            Sweep::BudgetCap => Some(ConstraintSource::BudgetCap),
            Sweep::MinMargin => Some(ConstraintSource::MinMargin),
            Sweep::RevenueTarget => Some(ConstraintSource::RevenueTarget),
            Sweep::MaxChange => Some(ConstraintSource::MaxChange),
            Sweep::MaxActive(_) | Sweep::Confidence => None,
        }
    }

    /// The values the bound may take.
    pub fn domain(self) -> Domain {
        match self {
            Sweep::BudgetCap | Sweep::MaxActive(_) | Sweep::MaxChange => Domain::NonNegative,
            Sweep::MinMargin => Domain::Margin,
            Sweep::Confidence => Domain::Fraction,
            Sweep::RevenueTarget => Domain::Any,
        }
    }

    /// `plan` with the swept bound at `value`.
    pub fn apply(self, plan: &Plan, value: f64) -> Plan {
        let mut plan = plan.clone();
        match self {
            Sweep::BudgetCap => plan.budget_cap = Some(value),
            Sweep::MinMargin => plan.requirements.min_margin = Some(value),
            Sweep::RevenueTarget => plan.requirements.revenue_target = Some(value),
            Sweep::MaxChange => {
                if let Some(replan) = plan.replan.as_mut() {
                    replan.max_change = Some(value);
                }
            }
            Sweep::Confidence => {
                if let Some(uncertainty) = plan.uncertainty.as_mut() {
                    uncertainty.confidence = Some(value);
                }
            }
            Sweep::MaxActive(i) => {
                if let Some(driver) = plan.drivers.get_mut(i) {
                    driver.max_active.fill(Some(value));
                    // A floor above the swept cap would make the plan invalid;
                    // the cap wins, as a plan file would have to say.
                    for floor in &mut driver.min_active {
                        *floor = floor.min(value);
                    }
                }
            }
        }
        plan
    }

    /// Whether raising the bound makes a plan easier to satisfy.
    fn loosens_upwards(self) -> bool {
        matches!(
            self,
            Sweep::BudgetCap | Sweep::MaxActive(_) | Sweep::MaxChange
        )
    }
}

/// One point of a frontier: a breakpoint, or an end of the range.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierPoint {
    /// The swept bound.
    pub bound: f64,
    /// The solved plan at this bound (status, totals, allocation).
    pub report: PlanReport,
    /// Slope of the first objective on the piece that starts here, per unit of
    /// bound; `None` at the last point, where the plan becomes infeasible, or on a
    /// curved (margin) piece.
    pub slope_after: Option<f64>,
    /// Drivers funded here but not at the previous point.
    pub entering: Vec<String>,
    /// Drivers funded at the previous point but not here.
    pub leaving: Vec<String>,
}

/// The optimum along a range of one bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Frontier {
    /// The swept bound.
    pub over: Sweep,
    /// The plan's objective (its first total is the frontier's value).
    pub objective: Objective,
    /// The start, every breakpoint, and the end, in increasing bound.
    pub points: Vec<FrontierPoint>,
    /// Whether the sweep covered the whole range (false: the time limit or the piece
    /// limit cut it short).
    pub complete: bool,
    /// Whether the points are the exact breakpoints of a piecewise-linear curve
    /// (slopes followed); otherwise the curve is sampled evenly and every change of
    /// driver mix located by bisection.
    pub exact: bool,
}

/// Most pieces one sweep follows.
const MAX_PIECES: usize = 500;
/// Samples of a curved (margin) sweep before breakpoints are located.
const CURVE_SAMPLES: usize = 48;
/// Bounds closer than this (relative) are one point of a sampled curve.
const SAME_BOUND: f64 = 1e-7;
/// Bisection steps locating a change of mix or of feasibility.
const BISECTIONS: usize = 50;

/// Sweeps `over` from `from` to `to` (from <= to) on `plan`.
pub fn frontier(
    plan: &Plan,
    over: Sweep,
    from: f64,
    to: f64,
    time_limit: Option<Duration>,
    solver: SolverChoice,
) -> Result<Frontier, SolveError> {
    let deadline = time_limit.map(|limit| Instant::now() + limit);
    solver.check_available()?;
    let sweeper = Sweeper {
        plan,
        over,
        deadline,
        solver,
        bases: Bases::new(),
    };
    // Slopes can be followed only where the curve is piecewise linear and concave:
    // a linear program swept over one right-hand side. Whole-unit drivers make it a
    // staircase, and a margin floor bends it: those are sampled instead, and so
    // is a cap in seat, which moves one row per period at once.
    let exact = over.source().is_some()
        && over != Sweep::MinMargin
        && !Program::build(plan).is_mixed_integer();
    let (points, complete) = if exact {
        sweeper.follow_slopes(from, to)?
    } else {
        sweeper.sample_curve(from, to)?
    };
    let points = sweeper.with_mix_changes(points)?;
    Ok(Frontier {
        over,
        objective: plan.objective,
        points,
        complete,
        exact,
    })
}

struct Sweeper<'a> {
    plan: &'a Plan,
    over: Sweep,
    deadline: Option<Instant>,
    solver: SolverChoice,
    /// The optimal bases of the points solved so far: a point near another
    /// mostly keeps its basis, and then needs no engine call.
    bases: Bases,
}

impl Sweeper<'_> {
    fn time_left(&self) -> Option<Duration> {
        remaining(self.deadline)
    }

    fn out_of_time(&self) -> bool {
        expired(self.deadline)
    }

    /// The full solve (no explanations) at `bound`, from the bases of the points
    /// solved so far when they still fit.
    fn report_at(&self, bound: f64) -> Result<PlanReport, SolveError> {
        self.solve_at(bound, Some(&self.bases))
    }

    fn solve_at(&self, bound: f64, bases: Option<&Bases>) -> Result<PlanReport, SolveError> {
        let options = SolveOptions {
            time_limit: self.time_left(),
            explain: false,
            solver: self.solver,
        };
        solve_with(&self.over.apply(self.plan, bound), &options, bases)
    }

    fn point(&self, bound: f64, slope_after: Option<f64>) -> Result<FrontierPoint, SolveError> {
        Ok(FrontierPoint {
            bound,
            report: self.report_at(bound)?,
            slope_after,
            entering: Vec::new(),
            leaving: Vec::new(),
        })
    }

    /// Whether the plan is feasible at `bound`, as the engine says: the
    /// feasibility boundary is then where the slopes' own solves (`rate_ahead`)
    /// find a plan, not a round-off away on the other side.
    fn feasible_at(&self, bound: f64) -> Result<bool, SolveError> {
        Ok(self.solve_at(bound, None)?.status == Status::Optimal)
    }

    /// The boundary between feasible and infeasible bounds in `[low, high]`, given
    /// which end is feasible.
    fn feasibility_boundary(
        &self,
        mut feasible: f64,
        mut infeasible: f64,
    ) -> Result<f64, SolveError> {
        for _ in 0..BISECTIONS {
            if (feasible - infeasible).abs() <= 1e-12 * feasible.abs().max(1.0)
                || self.out_of_time()
            {
                break;
            }
            let middle = (feasible + infeasible) / 2.0;
            if self.feasible_at(middle)? {
                feasible = middle;
            } else {
                infeasible = middle;
            }
        }
        Ok(feasible)
    }

    /// Piecewise-linear sweep: from each point, the rate of the first objective and
    /// how far it holds give the next breakpoint.
    fn follow_slopes(&self, from: f64, to: f64) -> Result<(Vec<FrontierPoint>, bool), SolveError> {
        let mut points = Vec::new();
        let mut bound = from;
        if !self.feasible_at(bound)? {
            points.push(self.point(bound, None)?);
            // A bound that tightens upwards, infeasible here, is infeasible beyond;
            // one that loosens may become feasible further up.
            if !self.over.loosens_upwards() || !self.feasible_at(to)? {
                return Ok((points, true));
            }
            bound = self.feasibility_boundary(to, bound)?;
        }
        for _ in 0..MAX_PIECES {
            if self.out_of_time() {
                return Ok((points, false));
            }
            let program = build_program(&self.over.apply(self.plan, bound), self.solver)?;
            let Some(index) = program
                .named
                .iter()
                .position(|named| Some(named.source) == self.over.source())
            else {
                return Ok((points, false));
            };
            let step = rate_ahead(
                &program,
                self.plan.objective,
                index,
                to - bound,
                self.deadline,
            );
            let step = match step {
                Err(SolveError::OutOfTime) => return Ok((points, false)),
                other => other?,
            };
            match step {
                Some((_, rate, reach)) if reach > 1e-9 * bound.abs().max(1.0) => {
                    points.push(self.point(bound, Some(rate))?);
                    bound += reach;
                    if bound >= to - 1e-9 * to.abs().max(1.0) {
                        points.push(self.point(to, None)?);
                        return Ok((points, true));
                    }
                }
                _ => {
                    // Cannot move up: the plan turns infeasible right here.
                    points.push(self.point(bound, None)?);
                    if bound < to {
                        let beyond = (bound + (to - bound) * 1e-6).min(to);
                        points.push(self.point(beyond, None)?);
                    }
                    return Ok((points, true));
                }
            }
        }
        Ok((points, false))
    }

    /// Curved sweep (margin floors): sample, then bisect every interval where the
    /// driver mix (or feasibility) changes.
    fn sample_curve(&self, from: f64, to: f64) -> Result<(Vec<FrontierPoint>, bool), SolveError> {
        let at = |k: usize| from + (to - from) * k as f64 / CURVE_SAMPLES as f64;
        let mut points = vec![self.point(from, None)?];
        for k in 1..=CURVE_SAMPLES {
            if self.out_of_time() {
                return Ok((points, false));
            }
            let next = self.point(at(k), None)?;
            let previous = points.last().map(|point| (point.bound, mix(&point.report)));
            if let Some((low, low_mix)) = previous {
                if low_mix != mix(&next.report) {
                    let change = self.mix_change(low, &low_mix, next.bound)?;
                    // A change within round-off of a sample is that sample: no
                    // second point a hair away (18.499999 beside 18.5).
                    let apart = SAME_BOUND * change.abs().max(1.0);
                    if change > low + apart && change < next.bound - apart {
                        points.push(self.point(change, None)?);
                    }
                }
            }
            points.push(next);
        }
        Ok((points, true))
    }

    /// The first bound in `(low, high]` whose mix differs from `low_mix`.
    fn mix_change(&self, mut low: f64, low_mix: &Mix, mut high: f64) -> Result<f64, SolveError> {
        for _ in 0..BISECTIONS {
            if high - low <= 1e-12 * high.abs().max(1.0) || self.out_of_time() {
                break;
            }
            let middle = (low + high) / 2.0;
            if mix(&self.report_at(middle)?) == *low_mix {
                low = middle;
            } else {
                high = middle;
            }
        }
        Ok(high)
    }
}

/// Which drivers are funded in which segment each period, and whether there is a
/// plan at all: what a "change of mix" means.
type Mix = (Status, Vec<Vec<crate::model::Position>>);

fn mix(report: &PlanReport) -> Mix {
    (
        report.status,
        report
            .drivers
            .iter()
            .map(|driver| {
                driver
                    .periods
                    .iter()
                    .map(|period| period.position)
                    .collect()
            })
            .collect(),
    )
}

fn funded(report: &PlanReport) -> Vec<String> {
    report
        .drivers
        .iter()
        .filter(|driver| driver.units > 1e-7)
        .map(|driver| driver.id.clone())
        .collect()
}

impl Sweeper<'_> {
    /// Fills in which drivers enter and leave at each inner point: those funded on
    /// the piece after it and not on the piece before (and the reverse), each piece
    /// judged at its middle.
    fn with_mix_changes(
        &self,
        mut points: Vec<FrontierPoint>,
    ) -> Result<Vec<FrontierPoint>, SolveError> {
        let middles: Vec<Vec<String>> = points
            .windows(2)
            .map(|pair| {
                Ok(funded(
                    &self.report_at((pair[0].bound + pair[1].bound) / 2.0)?,
                ))
            })
            .collect::<Result<_, SolveError>>()?;
        for (k, point) in points.iter_mut().enumerate().skip(1) {
            let (Some(before), Some(after)) = (middles.get(k - 1), middles.get(k)) else {
                continue;
            };
            point.entering = after
                .iter()
                .filter(|id| !before.contains(id))
                .cloned()
                .collect();
            point.leaving = before
                .iter()
                .filter(|id| !after.contains(id))
                .cloned()
                .collect();
        }
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::solve;
    use crate::model::fixtures::worked_example;

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn budget_frontier_of_the_worked_example_breaks_at_50_and_450() {
        // docs/MODEL.md §4 case one over budget_cap 0..600: a's first segment (3.0 per
        // dollar) fills the first 50; then b (1.5) until the 0.2 margin floor binds:
        // 0.8 (150 + 1.5 x) - (50 + x) = 0.2 (150 + 1.5 x) gives x = 400, a budget
        // of 450 and revenue 150 + 600 = 750, which stays beyond.
        let frontier = frontier(
            &worked_example(0.2),
            Sweep::BudgetCap,
            0.0,
            600.0,
            None,
            SolverChoice::Auto,
        )
        .expect("sweep");
        assert!(frontier.complete);
        let bounds: Vec<f64> = frontier.points.iter().map(|p| p.bound).collect();
        assert_eq!(bounds.len(), 4, "{bounds:?}");
        for (bound, expected) in bounds.iter().zip([0.0, 50.0, 450.0, 600.0]) {
            assert!(near(*bound, expected), "{bounds:?}");
        }
        let revenue: Vec<f64> = frontier
            .points
            .iter()
            .map(|p| p.report.totals.revenue)
            .collect();
        for (value, expected) in revenue.iter().zip([0.0, 150.0, 750.0, 750.0]) {
            assert!(near(*value, expected), "{revenue:?}");
        }
        let slopes: Vec<Option<f64>> = frontier.points.iter().map(|p| p.slope_after).collect();
        assert!(near(slopes[0].expect("slope"), 3.0) && near(slopes[1].expect("slope"), 1.5));
        assert!(near(slopes[2].expect("slope"), 0.0) && slopes[3].is_none());
        // b enters at 50.
        assert_eq!(frontier.points[1].entering, vec!["b".to_string()]);
    }

    #[test]
    fn frontier_matches_independent_re_solves_between_breakpoints() {
        let plan = worked_example(0.2);
        let frontier = frontier(
            &plan,
            Sweep::BudgetCap,
            0.0,
            600.0,
            None,
            SolverChoice::Auto,
        )
        .expect("sweep");
        let pieces: Vec<(f64, f64, f64)> = frontier
            .points
            .windows(2)
            .map(|pair| {
                (
                    pair[0].bound,
                    pair[0].report.totals.revenue,
                    pair[0].slope_after.unwrap_or(0.0),
                )
            })
            .collect();
        for k in 0..=60 {
            let budget = 10.0 * k as f64;
            let (start, value, slope) = pieces
                .iter()
                .rev()
                .find(|(start, _, _)| *start <= budget)
                .copied()
                .expect("piece");
            let options = SolveOptions {
                explain: false,
                ..SolveOptions::default()
            };
            let direct = solve(&Sweep::BudgetCap.apply(&plan, budget), &options).expect("solve");
            let predicted = value + slope * (budget - start);
            assert!(
                near(direct.totals.revenue, predicted),
                "budget {budget}: {} vs {predicted}",
                direct.totals.revenue
            );
        }
    }

    #[test]
    fn revenue_target_frontier_ends_where_the_plan_becomes_infeasible() {
        // MINIMIZE_SPEND over revenue_target 100..300 in case one: 1/3 of a dollar per
        // unit of revenue up to 150 (a's first segment), then 1/1.5 up to 225, where
        // the budget of 100 runs out; beyond, no plan.
        let mut plan = worked_example(0.2);
        plan.objective = Objective::MinimizeSpend;
        let frontier = frontier(
            &plan,
            Sweep::RevenueTarget,
            100.0,
            300.0,
            None,
            SolverChoice::Auto,
        )
        .expect("sweep");
        let bounds: Vec<f64> = frontier.points.iter().map(|p| p.bound).collect();
        assert!(
            near(bounds[0], 100.0) && near(bounds[1], 150.0) && near(bounds[2], 225.0),
            "{bounds:?}"
        );
        assert!(near(
            frontier.points[0].slope_after.expect("slope"),
            1.0 / 3.0
        ));
        assert!(near(
            frontier.points[1].slope_after.expect("slope"),
            1.0 / 1.5
        ));
        let last = frontier.points.last().expect("points");
        assert_eq!(last.report.status, Status::Infeasible);
    }

    #[test]
    fn margin_frontier_locates_mix_changes() {
        // Case one over min_margin 0..0.6: up to 0.3556 (80 / 225) the budget binds and
        // the mix is a = 50 (end of segment 1), b = 50; above it the margin binds and b
        // shrinks; b leaves where a alone meets the floor: a's 50 units give margin
        // (0.8 * 150 - 50) / 150 = 0.4667, so b = 0 from 0.4667 on.
        let frontier = frontier(
            &worked_example(0.2),
            Sweep::MinMargin,
            0.0,
            0.6,
            None,
            SolverChoice::Auto,
        )
        .expect("sweep");
        let leaving = frontier
            .points
            .iter()
            .find(|p| p.leaving.contains(&"b".to_string()))
            .expect("b leaves");
        assert!(
            (leaving.bound - 0.7 / 1.5).abs() < 1e-6,
            "{}",
            leaving.bound
        );
    }
}
