//! Domain results back onto the wire.

use crate::model::Sense;
use crate::pb;
use crate::solve::{ConstraintReport, PlanReport, Status, Totals};

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
        periods: report.periods.clone(),
        drivers: report
            .drivers
            .iter()
            .map(|driver| pb::DriverResult {
                driver_id: driver.id.clone(),
                name: driver.name.clone(),
                unit: driver.unit.clone(),
                units: driver.units,
                spend: driver.spend,
                revenue: driver.revenue,
                periods: driver
                    .periods
                    .iter()
                    .zip(&report.periods)
                    .map(|(period, name)| pb::DriverPeriodResult {
                        period: name.clone(),
                        units: period.units,
                        spend: period.spend,
                        revenue: period.revenue,
                        marginal_return: period.marginal_return,
                    })
                    .collect(),
            })
            .collect(),
        period_totals: report.period_totals.iter().map(totals_to_pb).collect(),
        totals: Some(totals_to_pb(&report.totals)),
        constraints: report.constraints.iter().map(constraint_to_pb).collect(),
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

/// The wire enum of a constraint sense.
pub fn sense_to_pb(sense: Sense) -> pb::Sense {
    match sense {
        Sense::LessEqual => pb::Sense::LessEqual,
        Sense::GreaterEqual => pb::Sense::GreaterEqual,
        Sense::Equal => pb::Sense::Equal,
    }
}

fn totals_to_pb(totals: &Totals) -> pb::Totals {
    pb::Totals {
        period: totals.period.clone(),
        revenue: totals.revenue,
        spend: totals.spend,
        gross_profit: totals.gross_profit,
        contribution: totals.contribution,
        margin: totals.margin,
        roi: totals.roi,
        baseline_revenue: totals.baseline_revenue,
        driver_revenue: totals.driver_revenue,
        fixed_costs: totals.fixed_costs,
    }
}

fn constraint_to_pb(constraint: &ConstraintReport) -> pb::ConstraintResult {
    pb::ConstraintResult {
        name: constraint.name.clone(),
        sense: sense_to_pb(constraint.sense) as i32,
        value: constraint.value,
        bound: constraint.bound,
        slack: constraint.slack,
        binding: constraint.binding,
    }
}
