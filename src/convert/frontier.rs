//! Frontier requests and results between the wire and the domain.

use super::result::{driver_units_to_pb, status_to_pb, tidy, totals_to_pb};
use super::{objective_to_pb, FieldViolation, PlanError};
use crate::model::{Domain, MIN_MAGNITUDE};
use crate::pb;
use crate::scenario::{Frontier, Sweep};

/// The swept bound and range of a frontier request, checked: a bound is named, and
/// `from <= to` are finite values that bound may take, each 0 or at least
/// `MIN_MAGNITUDE` in magnitude like any number of a plan (the sweep writes them
/// into the plan past its validation).
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
    let (lowest, highest) = over
        .map_or(Domain::Any, |over| over.source().domain())
        .range();
    for (field, value) in [("from", request.from), ("to", request.to)] {
        if !value.is_finite() || value < lowest || value > highest {
            violation(
                field,
                format!("must be a number in [{lowest}, {highest}], got {value}"),
            );
        } else if value != 0.0 && value.abs() < MIN_MAGNITUDE {
            violation(
                field,
                format!("must be 0 or at least 1e-15 in magnitude, got {value:e}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(over: pb::SweptBound, from: f64, to: f64) -> pb::FrontierRequest {
        pb::FrontierRequest {
            over: over as i32,
            from,
            to,
            ..Default::default()
        }
    }

    fn fields(request: &pb::FrontierRequest) -> Vec<String> {
        match sweep_from_pb(request) {
            Err(PlanError::Invalid(violations)) => {
                violations.into_iter().map(|v| v.field).collect()
            }
            other => panic!("expected an invalid sweep, got {other:?}"),
        }
    }

    #[test]
    fn range_is_checked() {
        let ok = sweep_from_pb(&request(pb::SweptBound::BudgetCap, 0.0, 100.0));
        assert_eq!(ok, Ok((Sweep::BudgetCap, 0.0, 100.0)));
        assert_eq!(
            fields(&request(pb::SweptBound::Unspecified, 0.0, 1.0)),
            ["over"]
        );
        assert_eq!(
            fields(&request(pb::SweptBound::MinMargin, f64::NAN, 1.0)),
            ["from", "to"]
        );
        assert_eq!(
            fields(&request(pb::SweptBound::BudgetCap, 5.0, 1.0)),
            ["to"]
        );
    }

    /// Fuzzing (`plan_structured`): a min_margin sweep over subnormal margins got
    /// past this check into the plan, where microlp asserted on the margin row.
    #[test]
    fn fuzz_tiny_sweep_range_refused() {
        let tiny = request(
            pb::SweptBound::MinMargin,
            8.35445291e-315,
            5.02255116416336e-310,
        );
        assert_eq!(fields(&tiny), ["from", "to"]);
        let message = format!("{:?}", sweep_from_pb(&tiny));
        assert!(
            message.contains("must be 0 or at least 1e-15 in magnitude, got 8.35445291e-315"),
            "{message}"
        );
        let zero = sweep_from_pb(&request(pb::SweptBound::MinMargin, 0.0, 1e-15));
        assert_eq!(zero, Ok((Sweep::MinMargin, 0.0, 1e-15)));
    }
}
