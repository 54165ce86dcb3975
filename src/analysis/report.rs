//! What a solve reports (docs/MODEL.md §3), in domain terms: per driver and period
//! units, spend, revenue and marginal return; totals; every named constraint.

use std::time::Duration;

use crate::explain::{Diagnosis, ShadowPrice};
use crate::model::{
    distribution, marginal_return, position, Distribution, Objective, OutcomeTotals, Plan,
    Position, Sense,
};
use crate::program::{ratio, BoundUnit, Levels, Measure, Program};
use crate::solve::{ProgramSolution, Status};

/// The answer to a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanReport {
    /// The plan's name.
    pub plan_name: String,
    /// The plan's currency.
    pub currency: String,
    /// The plan's objective.
    pub objective: Objective,
    /// How the solve ended.
    pub status: Status,
    /// One sentence on the outcome.
    pub message: String,
    /// Whether an allocation is reported.
    pub has_solution: bool,
    /// Proven relative gap when an integer solve ran out of time.
    pub relative_gap: Option<f64>,
    /// Period names in order.
    pub periods: Vec<String>,
    /// Allocation per driver, in plan order (empty without a solution).
    pub drivers: Vec<DriverReport>,
    /// Totals per period (empty without a solution).
    pub period_totals: Vec<Totals>,
    /// Totals over the horizon (zero without a solution).
    pub totals: Totals,
    /// Every named constraint (empty without a solution).
    pub constraints: Vec<ConstraintReport>,
    /// What the solver did.
    pub solver: SolverStats,
    /// Whether shadow prices are those of the linear program with every integer
    /// variable fixed at its reported value (plans with integer drivers or
    /// segment-order binaries).
    pub prices_with_integers_fixed: bool,
    /// What to relax, for an infeasible plan when explanations ran.
    pub diagnosis: Option<Diagnosis>,
    /// For a re-plan: the money moved in all (docs/MODEL.md §6, `Change`).
    pub money_moved: Option<f64>,
    /// For a plan with uncertainty: revenue over its outcomes (docs/MODEL.md §7).
    pub distribution: Option<Distribution>,
}

/// One driver's allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverReport {
    /// Driver id.
    pub id: String,
    /// Driver label.
    pub name: String,
    /// What one unit is.
    pub unit: String,
    /// Units committed over the horizon.
    pub units: f64,
    /// Spend paid within the horizon.
    pub spend: f64,
    /// Revenue realised within the horizon.
    pub revenue: f64,
    /// Per period.
    pub periods: Vec<DriverPeriodReport>,
    /// The factor on this driver's revenue per unit at which its funding changes
    /// (explanations): above 1 for an unfunded driver (the factor at which it starts
    /// to get money), below 1 for a funded one (the factor at which it loses all of
    /// it). `None` when not computed or when no factor in [0, 1000] changes it.
    pub break_even_scale: Option<f64>,
    /// For a re-plan: the money moved on this driver.
    pub money_moved: Option<f64>,
}

/// One driver in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverPeriodReport {
    /// Units committed in the period.
    pub units: f64,
    /// Spend paid in the period.
    pub spend: f64,
    /// Revenue realised in the period.
    pub revenue: f64,
    /// Revenue per extra unit of money of one more unit committed in the period.
    pub marginal_return: f64,
    /// Where the committed units sit on the driver's bounds and curve.
    pub position: Position,
    /// Units active in the period (docs/MODEL.md §5): the existing team plus
    /// commitments of this and earlier periods still active.
    pub active: f64,
    /// For a re-plan (docs/MODEL.md §6): the units of the plan in force.
    pub current: Option<f64>,
    /// For a re-plan: units minus the plan in force's (0 elsewhere).
    pub change: f64,
    /// For a re-plan, where the units move: the binding constraints that move
    /// them (explanations: nonzero price, a row that holds the driver).
    pub moved_by: Vec<String>,
}

/// Money totals of a period (named) or the horizon (empty name).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Totals {
    /// Period name, or empty for the horizon.
    pub period: String,
    /// Baseline plus driver revenue.
    pub revenue: f64,
    /// Driver spend.
    pub spend: f64,
    /// Gross profit.
    pub gross_profit: f64,
    /// Gross profit minus spend minus fixed costs.
    pub contribution: f64,
    /// Contribution / revenue (0 when revenue is 0).
    pub margin: f64,
    /// Driver revenue / driver spend (0 when spend is 0).
    pub roi: f64,
    /// Baseline revenue.
    pub baseline_revenue: f64,
    /// Driver revenue.
    pub driver_revenue: f64,
    /// Fixed costs.
    pub fixed_costs: f64,
}

/// The state of one named constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintReport {
    /// docs/MODEL.md §3 name.
    pub name: String,
    /// `value (sense) bound`.
    pub sense: Sense,
    /// What the value and bound count.
    pub unit: BoundUnit,
    /// The constrained quantity, in the bound's units.
    pub value: f64,
    /// The bound as written.
    pub bound: f64,
    /// Distance from the bound on the allowed side (>= 0 when met).
    pub slack: f64,
    /// Holds with equality within tolerance.
    pub binding: bool,
    /// Shadow prices, when explanations ran.
    pub price: Option<ShadowPrice>,
    /// Why `price` is `None` although explanations ran (`None` otherwise).
    pub unpriced_reason: Option<String>,
}

#[cfg(test)]
impl PlanReport {
    /// The constraint named `name` (tests read results by name).
    pub(crate) fn constraint(&self, name: &str) -> &ConstraintReport {
        self.constraints
            .iter()
            .find(|constraint| constraint.name == name)
            .unwrap_or_else(|| panic!("no constraint {name}"))
    }
}

/// What the solver did.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverStats {
    /// Backend name.
    pub name: &'static str,
    /// Wall-clock time of the whole solve.
    pub elapsed: Duration,
    /// Lexicographic stages solved to optimality.
    pub stages: u32,
    /// Variables in the program.
    pub variables: usize,
    /// Rows in the program.
    pub constraints: usize,
    /// Whether any variable was integer.
    pub mixed_integer: bool,
    /// Whether the first level was settled from a kept optimal basis instead of
    /// by the engine (scenario batches).
    pub basis_reused: bool,
    /// The simplex pivots from the kept basis to the first level's optimum (0:
    /// it was still optimal, or none was reused).
    pub basis_pivots: usize,
}

/// Relative tolerance within which a constraint counts as binding.
const BINDING_TOLERANCE: f64 = 1e-6;

impl PlanReport {
    /// Reports `solution` of `program`, the program of `plan`.
    pub fn new(
        plan: &Plan,
        program: &Program,
        solution: &ProgramSolution,
        elapsed: Duration,
    ) -> PlanReport {
        let mut report = PlanReport {
            plan_name: plan.name.clone(),
            currency: plan.currency.clone(),
            objective: plan.objective,
            status: solution.status,
            message: solution.message.clone(),
            has_solution: solution.values.is_some(),
            relative_gap: solution.relative_gap,
            periods: plan
                .periods
                .iter()
                .map(|period| period.name.clone())
                .collect(),
            drivers: Vec::new(),
            period_totals: Vec::new(),
            totals: Totals::default(),
            constraints: Vec::new(),
            prices_with_integers_fixed: false,
            diagnosis: None,
            money_moved: None,
            distribution: None,
            solver: SolverStats {
                name: program.backend.name(),
                elapsed,
                stages: solution.stages,
                variables: program.vars.len(),
                constraints: program.rows.len(),
                mixed_integer: program.is_mixed_integer(),
                basis_reused: solution.basis_reused,
                basis_pivots: solution.basis_pivots,
            },
        };
        let Some(values) = solution.values.as_deref() else {
            return report;
        };
        let periods = plan.periods.len();
        report.drivers = plan
            .drivers
            .iter()
            .enumerate()
            .map(|(i, driver)| {
                let committed: Vec<f64> = program.units[i].iter().map(|u| u.eval(values)).collect();
                let per_period: Vec<DriverPeriodReport> = committed
                    .iter()
                    .enumerate()
                    .map(|(t, &units)| {
                        let current = plan.replan.as_ref().map(|r| r.current_units(i, t));
                        DriverPeriodReport {
                            units,
                            spend: program.spend[i][t].eval(values),
                            revenue: program.revenue[i][t].eval(values),
                            marginal_return: marginal_return(driver, units, t, periods),
                            position: position(driver, &committed, t),
                            active: driver.active_units(&committed, t),
                            current,
                            change: current.map_or(0.0, |current| units - current),
                            moved_by: Vec::new(),
                        }
                    })
                    .collect();
                DriverReport {
                    id: driver.id.clone(),
                    name: driver.name.clone(),
                    unit: driver.unit.clone(),
                    units: per_period.iter().map(|p| p.units).sum(),
                    spend: per_period.iter().map(|p| p.spend).sum(),
                    revenue: per_period.iter().map(|p| p.revenue).sum(),
                    periods: per_period,
                    break_even_scale: None,
                    money_moved: program
                        .replan
                        .as_ref()
                        .and_then(|replan| replan.by_driver.get(i))
                        .map(|moved| moved.eval(values)),
                }
            })
            .collect();
        report.period_totals = plan
            .periods
            .iter()
            .zip(program.period_levels.iter())
            .map(|(period, levels)| totals(&period.name, levels, period.fixed_costs, values))
            .collect();
        report.money_moved = program
            .replan
            .as_ref()
            .map(|replan| replan.change.eval(values));
        let fixed_costs = plan.periods.iter().map(|period| period.fixed_costs).sum();
        report.totals = totals("", &program.levels, fixed_costs, values);
        report.distribution = outcome_distribution(plan, program, values, &report.totals);
        report.constraints = program
            .named
            .iter()
            .map(|named| {
                let value = named.measure.eval(values);
                let row = &program.rows[named.row];
                let slack = match &named.measure {
                    // A ratio over nothing (no spend, no revenue) is reported as 0
                    // (docs/MODEL.md §3) but is not a broken floor: its row holds.
                    Measure::Ratio { denominator, .. }
                        if denominator.eval(values).abs() < 1e-12 =>
                    {
                        -row.violation(values)
                    }
                    _ => match named.sense {
                        Sense::LessEqual => named.bound - value,
                        Sense::GreaterEqual => value - named.bound,
                        Sense::Equal => -(value - named.bound).abs(),
                    },
                };
                let gap = (row.expr.eval(values) - row.rhs).abs();
                ConstraintReport {
                    name: named.name.clone(),
                    sense: named.sense,
                    unit: named.source.unit(),
                    value,
                    bound: named.bound,
                    slack,
                    binding: gap <= BINDING_TOLERANCE * row.scale(values),
                    price: None,
                    unpriced_reason: None,
                }
            })
            .collect();
        if report.status == Status::Optimal {
            report.message = format!(
                "optimal: revenue {:.2}, spend {:.2}, contribution {:.2}; {} of {} constraints bind",
                report.totals.revenue,
                report.totals.spend,
                report.totals.contribution,
                report.constraints.iter().filter(|c| c.binding).count(),
                report.constraints.len()
            );
        }
        report
    }
}

/// Revenue over the outcomes of a plan with uncertainty (docs/MODEL.md §7), for
/// the plan at `values`: each outcome's revenue and contribution from the
/// drivers' revenue at the plan's own rates times the outcome's factors.
fn outcome_distribution(
    plan: &Plan,
    program: &Program,
    values: &[f64],
    totals: &Totals,
) -> Option<Distribution> {
    let (uncertainty, terms) = plan.uncertainty.as_ref().zip(program.outcomes.as_ref())?;
    let revenue: Vec<f64> = terms.by_driver.iter().map(|r| r.eval(values)).collect();
    let baseline_profit = plan.baseline_gross_margin * terms.baseline;
    let costs = totals.spend + totals.fixed_costs;
    let outcomes = uncertainty
        .outcomes
        .iter()
        .map(|outcome| {
            let profit: f64 = revenue
                .iter()
                .zip(&outcome.factors)
                .zip(&plan.drivers)
                .map(|((r, factor), driver)| driver.gross_margin * factor * r)
                .sum();
            OutcomeTotals {
                weight: outcome.weight,
                revenue: outcome.revenue(&revenue, terms.baseline),
                contribution: baseline_profit + profit - costs,
            }
        })
        .collect();
    let floors = plan.requirements;
    Some(distribution(
        outcomes,
        floors.revenue_target,
        floors.min_margin,
        floors.min_contribution,
        uncertainty.confidence,
    ))
}

fn totals(period: &str, levels: &Levels, fixed_costs: f64, values: &[f64]) -> Totals {
    let revenue = levels.revenue.eval(values);
    let driver_revenue = levels.driver_revenue.eval(values);
    let spend = levels.spend.eval(values);
    let contribution = levels.contribution.eval(values);
    Totals {
        period: period.to_string(),
        revenue,
        spend,
        gross_profit: levels.gross_profit.eval(values),
        contribution,
        margin: ratio(contribution, revenue),
        roi: ratio(driver_revenue, spend),
        baseline_revenue: revenue - driver_revenue,
        driver_revenue,
        fixed_costs,
    }
}
