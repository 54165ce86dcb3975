//! Scoring an allocation the user already has: totals, every constraint met or
//! broken and by how much, and the gap to the optimum per driver.

use std::time::Duration;

use super::{solve, PlanReport};
use crate::model::{Plan, Sense};
use crate::program::Program;
use crate::solve::{ProgramSolution, SolveError, SolveOptions, SolverChoice, Status};

/// Units per driver (plan order) per period.
pub type Allocation = Vec<Vec<f64>>;

/// The score of a given allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The allocation as a report: per driver and period units, spend, revenue and
    /// marginal return; totals; every named constraint with value, bound and slack
    /// (negative slack: broken). Status `Optimal` stands for "evaluated".
    pub report: PlanReport,
    /// Every broken rule, named as the constraints are, plus rules of the drivers
    /// themselves (`driver[ae].integer[Q1]`, `driver[ae].curve[Q1]`), each with how
    /// far it is broken in the bound's units.
    pub violations: Vec<Violation>,
    /// The optimizer's answer for the same plan, for the gap.
    pub optimum: PlanReport,
    /// Per driver (plan order): what the optimizer would do differently.
    pub gaps: Vec<DriverGap>,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Constraint name (docs/MODEL.md §3) or driver rule.
    pub name: String,
    /// By how much, in the bound's units (> 0).
    pub amount: f64,
}

/// How one driver's allocation differs from the optimum.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverGap {
    /// Driver id.
    pub id: String,
    /// Optimal minus given units, per period.
    pub units_change: Vec<f64>,
    /// Optimal minus given revenue of this driver over the horizon.
    pub revenue_change: f64,
    /// Optimal minus given spend on this driver over the horizon.
    pub spend_change: f64,
}

/// Relative tolerance within which a constraint counts as met.
const MET_TOLERANCE: f64 = 1e-6;

/// Scores `allocation` (already checked: one entry per driver and period, finite,
/// non-negative) against `plan`.
pub fn evaluate(
    plan: &Plan,
    allocation: &Allocation,
    time_limit: Option<Duration>,
    solver: SolverChoice,
) -> Result<Evaluation, SolveError> {
    let program = Program::build(plan);
    let (values, mut violations) = values_for(plan, &program, allocation);
    let solution = ProgramSolution {
        status: Status::Optimal,
        values: Some(values),
        relative_gap: None,
        stages: 0,
        message: "evaluated".into(),
        first_stage: None,
        basis_reused: false,
        basis_pivots: 0,
    };
    let mut report = PlanReport::new(plan, &program, &solution, Duration::ZERO);
    report.solver.stages = 0;
    for constraint in &report.constraints {
        let scale = constraint.bound.abs().max(1.0);
        if constraint.slack < -MET_TOLERANCE * scale {
            violations.push(Violation {
                name: constraint.name.clone(),
                amount: -constraint.slack,
            });
        }
    }
    report.message = if violations.is_empty() {
        "the allocation meets every constraint".into()
    } else {
        format!("the allocation breaks {} rule(s)", violations.len())
    };
    let options = SolveOptions {
        time_limit,
        explain: false,
        solver,
    };
    let optimum = solve(plan, &options)?;
    let gaps = if optimum.has_solution {
        report
            .drivers
            .iter()
            .zip(&optimum.drivers)
            .map(|(given, best)| DriverGap {
                id: given.id.clone(),
                units_change: given
                    .periods
                    .iter()
                    .zip(&best.periods)
                    .map(|(given, best)| best.units - given.units)
                    .collect(),
                revenue_change: best.revenue - given.revenue,
                spend_change: best.spend - given.spend,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Evaluation {
        report,
        violations,
        optimum,
        gaps,
    })
}

/// Program variable values that commit `allocation`: each period's units fill the
/// response segments in order (docs/MODEL.md §2), which is the revenue the curve gives
/// them. Units beyond a finite curve, or fractional units of an integer driver,
/// are reported as violations.
fn values_for(
    plan: &Plan,
    program: &Program,
    allocation: &Allocation,
) -> (Vec<f64>, Vec<Violation>) {
    let mut values = vec![0.0; program.vars.len()];
    let mut violations = Vec::new();
    for (i, driver) in plan.drivers.iter().enumerate() {
        for (t, period) in plan.periods.iter().enumerate() {
            let units = units_at(allocation, i, t);
            let mut left = units;
            for (k, segment) in driver.response.iter().enumerate() {
                let Some(&var) = program
                    .segment_units
                    .get(i)
                    .and_then(|s| s.get(k))
                    .and_then(|s| s.get(t))
                else {
                    continue;
                };
                let take = segment.units.map_or(left, |width| left.min(width));
                values[var] = take;
                left -= take;
            }
            if left > MET_TOLERANCE * units.max(1.0) {
                violations.push(Violation {
                    name: format!("driver[{}].curve[{}]", driver.id, period.name),
                    amount: left,
                });
            }
            if driver.integer && (units - units.round()).abs() > MET_TOLERANCE {
                violations.push(Violation {
                    name: format!("driver[{}].integer[{}]", driver.id, period.name),
                    amount: (units - units.round()).abs(),
                });
            }
        }
    }
    // Whole-unit counts and segment-order binaries follow from the segments: set
    // every remaining (integer) variable so the structural rows hold where they can.
    fill_structural(program, &mut values);
    if let (Some(replan), Some(terms)) = (&plan.replan, &program.replan) {
        // A re-plan's moves follow from the units; a locked period must keep the
        // plan in force (docs/MODEL.md §6).
        for (i, driver) in plan.drivers.iter().enumerate() {
            for (t, period) in plan.periods.iter().enumerate() {
                let units = units_at(allocation, i, t);
                let current = replan.current_units(i, t);
                match terms
                    .moves
                    .get(i)
                    .and_then(|moves| moves.get(t))
                    .copied()
                    .flatten()
                {
                    Some((added, taken)) => {
                        values[added] = (units - current).max(0.0);
                        values[taken] = (current - units).max(0.0);
                    }
                    None if (units - current).abs() > MET_TOLERANCE * current.max(1.0) => {
                        violations.push(Violation {
                            name: format!("driver[{}].locked[{}]", driver.id, period.name),
                            amount: (units - current).abs(),
                        });
                    }
                    None => {}
                }
            }
        }
    }
    if let Some(uncertainty) = &plan.uncertainty {
        program.settle_tail(uncertainty, &mut values);
    }
    (values, violations)
}

/// Units of driver `i` in period `t` of `allocation` (0 where it lists none).
fn units_at(allocation: &Allocation, i: usize, t: usize) -> f64 {
    allocation
        .get(i)
        .and_then(|units| units.get(t))
        .copied()
        .unwrap_or(0.0)
}

/// Sets whole-unit counts (`u = n`) and segment-order binaries (`z = 1` when the
/// earlier segment is full) from the segment values.
fn fill_structural(program: &Program, values: &mut [f64]) {
    let named: std::collections::HashSet<usize> =
        program.named.iter().map(|named| named.row).collect();
    let structural = || {
        program
            .rows
            .iter()
            .enumerate()
            .filter(|(index, _)| !named.contains(index))
            .map(|(_, row)| row)
    };
    for row in structural() {
        // u - n = 0 rows: every term on y (+1) and one integer var (-1).
        if row.sense != Sense::Equal {
            continue;
        }
        let Some(&(whole, coefficient)) = row
            .expr
            .terms
            .iter()
            .find(|(var, _)| program.vars.get(*var).is_some_and(|var| var.integer))
        else {
            continue;
        };
        if coefficient == -1.0 {
            let sum: f64 = row
                .expr
                .terms
                .iter()
                .filter(|(var, _)| *var != whole)
                .map(|&(var, c)| c * values.get(var).copied().unwrap_or(0.0))
                .sum();
            if let Some(value) = values.get_mut(whole) {
                *value = sum;
            }
        }
    }
    // y[k] - width * z >= 0: z = 1 exactly when segment k is full.
    for row in structural() {
        if row.sense != Sense::GreaterEqual || row.expr.terms.len() != 2 || row.rhs != 0.0 {
            continue;
        }
        let [(y, _), (z, width)] = [row.expr.terms[0], row.expr.terms[1]];
        let is_binary = program
            .vars
            .get(z)
            .is_some_and(|var| var.integer && var.upper == 1.0);
        if is_binary && width < 0.0 {
            let full = values.get(y).copied().unwrap_or(0.0) >= -width * (1.0 - 1e-9);
            if let Some(value) = values.get_mut(z) {
                *value = if full { 1.0 } else { 0.0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{driver, plan, worked_example};

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn the_optimizers_own_allocation_has_no_gap_and_no_violation() {
        // docs/MODEL.md §4 case one: a = 50, b = 50 is the optimum.
        let evaluation = evaluate(
            &worked_example(0.2),
            &vec![vec![50.0], vec![50.0]],
            None,
            SolverChoice::Auto,
        )
        .expect("evaluate");
        assert!(
            evaluation.violations.is_empty(),
            "{:?}",
            evaluation.violations
        );
        for gap in &evaluation.gaps {
            assert!(
                gap.units_change.iter().all(|change| change.abs() < 1e-9),
                "{gap:?}"
            );
            assert!(
                gap.revenue_change.abs() < 1e-9 && gap.spend_change.abs() < 1e-9,
                "{gap:?}"
            );
        }
        assert!(near(evaluation.report.totals.revenue, 225.0));
    }

    #[test]
    fn the_example_plans_optimum_scores_itself_without_gap() {
        let text = include_str!("../../examples/saas_quarterly_plan.json");
        let pb_plan = crate::convert::parse_plan_json(text).expect("example parses");
        let plan = crate::convert::plan_from_pb(&pb_plan, &crate::convert::Limits::default())
            .expect("valid");
        let options = SolveOptions {
            explain: false,
            ..SolveOptions::default()
        };
        let optimum = solve(&plan, &options).expect("solve");
        let allocation: Allocation = optimum
            .drivers
            .iter()
            .map(|driver| driver.periods.iter().map(|period| period.units).collect())
            .collect();
        let evaluation = evaluate(&plan, &allocation, None, SolverChoice::Auto).expect("evaluate");
        assert!(
            evaluation.violations.is_empty(),
            "{:?}",
            evaluation.violations
        );
        assert!(near(
            evaluation.report.totals.revenue,
            optimum.totals.revenue
        ));
        assert!(near(
            evaluation.report.totals.contribution,
            optimum.totals.contribution
        ));
        for gap in &evaluation.gaps {
            assert!(
                gap.revenue_change.abs() <= 1e-6 * optimum.totals.revenue,
                "{gap:?}"
            );
        }
    }

    #[test]
    fn a_hand_made_allocation_is_scored_by_hand() {
        // Case one with a = 30 (all at 3.0: 90) and b = 90 (at 1.5: 135): revenue 225,
        // spend 120 — the budget of 100 is broken by 20 — contribution
        // 0.8 * 225 - 120 = 60, margin 60 / 225 = 0.267 (the 0.2 floor holds).
        // The optimum (a = 50, b = 50) moves a by +20 (+60 revenue) and b by -40
        // (-60 revenue).
        let evaluation = evaluate(
            &worked_example(0.2),
            &vec![vec![30.0], vec![90.0]],
            None,
            SolverChoice::Auto,
        )
        .expect("evaluate");
        let totals = &evaluation.report.totals;
        assert!(
            near(totals.revenue, 225.0)
                && near(totals.spend, 120.0)
                && near(totals.contribution, 60.0)
        );
        assert_eq!(
            evaluation.violations.len(),
            1,
            "{:?}",
            evaluation.violations
        );
        assert_eq!(evaluation.violations[0].name, "budget_cap");
        assert!(near(evaluation.violations[0].amount, 20.0));
        let gap = |id: &str| {
            evaluation
                .gaps
                .iter()
                .find(|gap| gap.id == id)
                .expect("gap")
                .clone()
        };
        assert!(near(gap("a").units_change[0], 20.0) && near(gap("a").revenue_change, 60.0));
        assert!(near(gap("b").units_change[0], -40.0) && near(gap("b").revenue_change, -60.0));
    }

    #[test]
    fn units_fill_segments_in_order_and_ramp_over_periods() {
        // An AE (cost 10 a quarter for two quarters, ramp [0, 1], 40 at full
        // productivity for the first 2 heads, 20 beyond), 3 heads in Q1, none in Q2:
        // Q1 revenue 0, Q2 revenue 2 * 40 + 1 * 20 = 100; spend 30 in each quarter.
        let mut ae = driver("ae", 1.0, &[(Some(2.0), 40.0), (None, 20.0)], 2);
        ae.unit_cost = 10.0;
        ae.cost_profile = vec![1.0, 1.0];
        ae.return_profile = vec![0.0, 1.0];
        let plan = plan(&["Q1", "Q2"], vec![ae]);
        let evaluation =
            evaluate(&plan, &vec![vec![3.0, 0.0]], None, SolverChoice::Auto).expect("evaluate");
        let periods = &evaluation.report.drivers[0].periods;
        assert!(near(periods[0].revenue, 0.0) && near(periods[1].revenue, 100.0));
        assert!(near(periods[0].spend, 30.0) && near(periods[1].spend, 30.0));
    }

    #[test]
    fn an_empty_allocation_breaks_no_ratio_floor() {
        // Nothing committed and no baseline: ROI and margin are reported as 0 (no
        // spend, no revenue), yet their rows hold: 0 - 2.5 * 0 >= 0 for the ROI floor
        // and 0 - 0.2 * 0 >= 0 for the margin floor. Nothing is broken.
        let mut plan = worked_example(0.2);
        plan.requirements.min_roi = Some(2.5);
        let evaluation = evaluate(&plan, &vec![vec![0.0], vec![0.0]], None, SolverChoice::Auto)
            .expect("evaluate");
        assert!(
            evaluation.violations.is_empty(),
            "{:?}",
            evaluation.violations
        );
    }

    #[test]
    fn driver_rules_are_checked_too() {
        // ae comes in whole heads; c's curve has room for 10 units only.
        let mut ae = driver("ae", 0.8, &[(None, 100.0)], 1);
        ae.integer = true;
        let c = driver("c", 0.8, &[(Some(10.0), 2.0)], 1);
        let mut plan = plan(&["total"], vec![ae, c]);
        plan.budget_cap = Some(1000.0);
        let evaluation = evaluate(
            &plan,
            &vec![vec![2.5], vec![12.0]],
            None,
            SolverChoice::Auto,
        )
        .expect("evaluate");
        let names: Vec<&str> = evaluation
            .violations
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert!(names.contains(&"driver[ae].integer[total]"), "{names:?}");
        assert!(names.contains(&"driver[c].curve[total]"), "{names:?}");
        let curve = evaluation
            .violations
            .iter()
            .find(|v| v.name == "driver[c].curve[total]")
            .expect("curve");
        assert!(near(curve.amount, 2.0));
    }
}
