//! Frontier requests and results between the wire and the domain.

use super::result::{driver_units_to_pb, status_to_pb, tidy, totals_to_pb};
use super::{objective_to_pb, FieldViolation, PlanError};
use crate::pb;
use crate::scenario::{Frontier, Sweep};

/// The swept bound and range of a frontier request, checked: a bound is named, and
/// `from <= to` are finite values that bound may take.
pub fn sweep_from_pb(request: &pb::FrontierRequest) -> Result<(Sweep, f64, f64), PlanError> {
    let mut violations = Vec::new();
    let mut violation = |field: &str, description: String| {
        violations.push(FieldViolation {
            field: field.into(),
            description,
        });
    };
    let over = match pb::SweptBound::try_from(request.over) {
        Ok(pb::SweptBound::BudgetCap) => Some(Sweep::BudgetCap),
        Ok(pb::SweptBound::MinMargin) => Some(Sweep::MinMargin),
        Ok(pb::SweptBound::RevenueTarget) => Some(Sweep::RevenueTarget),
        _ => {
            violation(
                "over",
                "name the bound to sweep: BUDGET_CAP, MIN_MARGIN or REVENUE_TARGET".into(),
            );
            None
        }
    };
    let (lowest, highest) = match over {
        Some(Sweep::BudgetCap) => (0.0, 1e15),
        Some(Sweep::MinMargin) => (-1.0, 1.0 - 1e-9),
        _ => (-1e15, 1e15),
    };
    for (field, value) in [("from", request.from), ("to", request.to)] {
        if !value.is_finite() || value < lowest || value > highest {
            violation(
                field,
                format!("must be a number in [{lowest}, {highest}], got {value}"),
            );
        }
    }
    if request.from > request.to {
        violation(
            "to",
            format!("must not be below from ({} > {})", request.from, request.to),
        );
    }
    match over {
        Some(over) if violations.is_empty() => Ok((over, request.from, request.to)),
        _ => Err(PlanError::Invalid(violations)),
    }
}

/// The wire form of a frontier.
pub fn frontier_to_pb(frontier: &Frontier) -> pb::Frontier {
    pb::Frontier {
        over: match frontier.over {
            Sweep::BudgetCap => pb::SweptBound::BudgetCap,
            Sweep::MinMargin => pb::SweptBound::MinMargin,
            Sweep::RevenueTarget => pb::SweptBound::RevenueTarget,
        } as i32,
        bound_name: frontier.over.name().into(),
        objective: objective_to_pb(frontier.objective) as i32,
        points: frontier
            .points
            .iter()
            .map(|point| pb::FrontierPoint {
                bound: tidy(point.bound),
                status: status_to_pb(point.report.status) as i32,
                totals: Some(totals_to_pb(&point.report.totals)),
                drivers: driver_units_to_pb(&point.report),
                slope_after: point.slope_after.map(tidy),
                entering: point.entering.clone(),
                leaving: point.leaving.clone(),
            })
            .collect(),
        complete: frontier.complete,
        exact: frontier.exact,
    }
}
