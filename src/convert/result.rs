//! Domain results back onto the wire.

use crate::analysis::{ConstraintReport, PlanReport, Totals};
use crate::model::Position;
use crate::model::{Objective, Sense};
use crate::pb;
use crate::program::BoundUnit;
use crate::solve::Status;

/// The wire form of a solve's report: the `result` of `OptimizeResponse` and the
/// CLI's `--format json` output.
pub fn result_to_pb(report: &PlanReport) -> pb::PlanResult {
    pb::PlanResult {
        plan_name: report.plan_name.clone(),
        currency: report.currency.clone(),
        status: status_to_pb(report.status) as i32,
        message: report.message.clone(),
        has_solution: report.has_solution,
        relative_gap: report.relative_gap.filter(|gap| gap.is_finite()),
        money_moved: report.money_moved.map(tidy),
        distribution: report
            .distribution
            .as_ref()
            .map(|d| pb::RevenueDistribution {
                outcomes: u32::try_from(d.outcomes).unwrap_or(u32::MAX),
                mean: tidy(d.mean),
                p10: tidy(d.p10),
                p50: tidy(d.p50),
                p90: tidy(d.p90),
                probability_target: d.probability_target.map(tidy),
                probability_min_margin: d.probability_min_margin.map(tidy),
                probability_min_contribution: d.probability_min_contribution.map(tidy),
                tail_mean: d.tail_mean.map(tidy),
            }),
        periods: report.periods.clone(),
        drivers: report
            .drivers
            .iter()
            .map(|driver| pb::DriverResult {
                driver_id: driver.id.clone(),
                name: driver.name.clone(),
                unit: driver.unit.clone(),
                units: tidy(driver.units),
                spend: tidy(driver.spend),
                revenue: tidy(driver.revenue),
                break_even_scale: driver.break_even_scale.map(tidy),
                money_moved: driver.money_moved.map(tidy),
                periods: driver
                    .periods
                    .iter()
                    .zip(&report.periods)
                    .map(|(period, name)| pb::DriverPeriodResult {
                        period: name.clone(),
                        units: tidy(period.units),
                        spend: tidy(period.spend),
                        revenue: tidy(period.revenue),
                        marginal_return: tidy(period.marginal_return),
                        position: position_to_pb(period.position) as i32,
                        active: tidy(period.active),
                        current_units: period.current.map(tidy),
                        change: tidy(period.change),
                        moved_by: period.moved_by.clone(),
                        segment: match period.position {
                            Position::InSegment(k) | Position::AtSegmentEnd(k) => {
                                saturating_u32(k + 1)
                            }
                            _ => 0,
                        },
                    })
                    .collect(),
            })
            .collect(),
        period_totals: report.period_totals.iter().map(totals_to_pb).collect(),
        totals: Some(totals_to_pb(&report.totals)),
        constraints: report.constraints.iter().map(constraint_to_pb).collect(),
        diagnosis: report.diagnosis.as_ref().map(|diagnosis| pb::Diagnosis {
            audit: diagnosis.audit.clone(),
            relaxations: diagnosis
                .relaxations
                .iter()
                .map(|relaxation| pb::Relaxation {
                    name: relaxation.name.clone(),
                    unit: unit_to_pb(relaxation.unit) as i32,
                    bound: tidy(relaxation.bound),
                    alone_bound: relaxation.alone.map(tidy),
                    combined_bound: relaxation.combined.map(tidy),
                    undecided: relaxation.undecided.clone().unwrap_or_default(),
                })
                .collect(),
            combined_found: diagnosis.combined_found,
            combined_exact: diagnosis.combined_exact,
            note: diagnosis.note.clone().unwrap_or_default(),
        }),
        prices_with_integers_fixed: report.prices_with_integers_fixed,
        objective: objective_to_pb(report.objective) as i32,
        solver: Some(pb::SolverInfo {
            name: report.solver.name.to_string(),
            solve_time: Some(pbjson_types::Duration::from(report.solver.elapsed)),
            stages: report.solver.stages,
            variables: saturating_u32(report.solver.variables),
            constraints: saturating_u32(report.solver.constraints),
            mixed_integer: report.solver.mixed_integer,
        }),
    }
}

/// A reported number without the last bits of floating-point noise: 12
/// significant digits, and magnitudes under 1e-9 as 0 (so a met bound shows slack 0,
/// not -1.4e-14, and a price 1.5, not 1.4999999999999991).
pub fn tidy(value: f64) -> f64 {
    if !value.is_finite() || value.abs() < 1e-9 {
        return if value.is_finite() { 0.0 } else { value };
    }
    let digits = 11 - value.abs().log10().floor() as i32;
    let factor = 10f64.powi(digits.clamp(-300, 300));
    let rounded = (value * factor).round() / factor;
    if rounded.is_finite() {
        rounded
    } else {
        value
    }
}

fn saturating_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The wire enum of a solve status.
pub fn status_to_pb(status: Status) -> pb::SolveStatus {
    match status {
        Status::Optimal => pb::SolveStatus::Optimal,
        Status::Infeasible => pb::SolveStatus::Infeasible,
        Status::Unbounded => pb::SolveStatus::Unbounded,
        Status::TimeLimit => pb::SolveStatus::TimeLimit,
    }
}

/// The wire enum of a driver's position.
pub fn position_to_pb(position: Position) -> pb::Position {
    match position {
        Position::Unfunded => pb::Position::Unfunded,
        Position::AtMinUnits => pb::Position::AtMinUnits,
        Position::AtMaxUnits => pb::Position::AtMaxUnits,
        Position::AtMaxActive => pb::Position::AtMaxActive,
        Position::InSegment(_) => pb::Position::InSegment,
        Position::AtSegmentEnd(_) => pb::Position::AtSegmentEnd,
    }
}

/// The wire enum of an objective.
pub fn objective_to_pb(objective: Objective) -> pb::Objective {
    match objective {
        Objective::MaximizeRevenue => pb::Objective::MaximizeRevenue,
        Objective::MaximizeContribution => pb::Objective::MaximizeContribution,
        Objective::MinimizeSpend => pb::Objective::MinimizeSpend,
    }
}

/// The wire enum of a constraint sense.
pub fn sense_to_pb(sense: Sense) -> pb::Sense {
    match sense {
        Sense::LessEqual => pb::Sense::LessEqual,
        Sense::GreaterEqual => pb::Sense::GreaterEqual,
        Sense::Equal => pb::Sense::Equal,
    }
}

/// Units, spend and revenue per driver over the horizon: the allocation summary of
/// frontier points and scenario results.
pub fn driver_units_to_pb(report: &PlanReport) -> Vec<pb::DriverUnits> {
    report
        .drivers
        .iter()
        .map(|driver| pb::DriverUnits {
            driver_id: driver.id.clone(),
            units: tidy(driver.units),
            spend: tidy(driver.spend),
            revenue: tidy(driver.revenue),
        })
        .collect()
}

/// The wire form of totals.
pub fn totals_to_pb(totals: &Totals) -> pb::Totals {
    pb::Totals {
        period: totals.period.clone(),
        revenue: tidy(totals.revenue),
        spend: tidy(totals.spend),
        gross_profit: tidy(totals.gross_profit),
        contribution: tidy(totals.contribution),
        margin: tidy(totals.margin),
        roi: tidy(totals.roi),
        baseline_revenue: tidy(totals.baseline_revenue),
        driver_revenue: tidy(totals.driver_revenue),
        fixed_costs: tidy(totals.fixed_costs),
    }
}

/// The wire enum of what a bound counts.
fn unit_to_pb(unit: BoundUnit) -> pb::BoundUnit {
    match unit {
        BoundUnit::Money => pb::BoundUnit::Money,
        BoundUnit::Units => pb::BoundUnit::Units,
        BoundUnit::Fraction => pb::BoundUnit::Fraction,
        BoundUnit::Ratio => pb::BoundUnit::Ratio,
    }
}

fn constraint_to_pb(constraint: &ConstraintReport) -> pb::ConstraintResult {
    pb::ConstraintResult {
        name: constraint.name.clone(),
        sense: sense_to_pb(constraint.sense) as i32,
        unit: unit_to_pb(constraint.unit) as i32,
        value: tidy(constraint.value),
        bound: tidy(constraint.bound),
        slack: tidy(constraint.slack),
        binding: constraint.binding,
        shadow_price_up: constraint.price.and_then(|price| price.up).map(tidy),
        shadow_price_down: constraint.price.and_then(|price| price.down).map(tidy),
        up_price_holds_to: constraint.price.and_then(|price| price.up_until).map(tidy),
        down_price_holds_to: constraint
            .price
            .and_then(|price| price.down_until)
            .map(tidy),
        priced: constraint.price.is_some(),
        unpriced_reason: constraint.unpriced_reason.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn tidy_removes_floating_point_noise() {
        assert_eq!(tidy(1.4999999999999991), 1.5);
        assert_eq!(tidy(450.0000000000009), 450.0);
        assert_eq!(tidy(-1.4e-14), 0.0);
        assert_eq!(tidy(80.0 / 225.0), 0.355555555556);
        assert_eq!(tidy(34_196_029.123_456), 34_196_029.123_5);
        assert_eq!(tidy(0.0), 0.0);
    }
}
