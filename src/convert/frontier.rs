//! Frontier requests and results between the wire and the domain.

use super::result::{driver_units_to_pb, status_to_pb, tidy, totals_to_pb};
use super::{objective_to_pb, FieldViolation, PlanError};
use crate::model::{Domain, MIN_MAGNITUDE};
use crate::scenario::{Frontier, Sweep};
use crate::{model, pb};

/// The swept bound and range of a frontier request on `plan` (already
/// validated), checked: a bound is named (a cap in seat with a driver of the plan),
/// and `from <= to` are finite values that bound may take, each 0 or at least
/// `MIN_MAGNITUDE` in magnitude like any number of a plan (the sweep writes them
/// into the plan past its validation).
pub fn sweep_from_pb(
    request: &pb::FrontierRequest,
    plan: &model::Plan,
) -> Result<(Sweep, f64, f64), PlanError> {
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
        Ok(pb::SweptBound::MaxChange) => {
            if plan.replan.is_none() {
                violation(
                    "over",
                    "MAX_CHANGE sweeps a re-plan's money moved: the plan has no replan".into(),
                );
                None
            } else {
                Some(Sweep::MaxChange)
            }
        }
        Ok(pb::SweptBound::Confidence) => {
            if plan.uncertainty.is_none() || plan.requirements.revenue_target.is_none() {
                violation(
                    "over",
                    "CONFIDENCE sweeps the confidence a revenue target is met with: the plan \
                     needs uncertainty and requirements.revenue_target"
                        .into(),
                );
                None
            } else {
                Some(Sweep::Confidence)
            }
        }
        Ok(pb::SweptBound::MaxActive) => {
            let index = plan
                .drivers
                .iter()
                .position(|driver| driver.id == request.driver_id);
            if index.is_none() {
                violation(
                    "driver_id",
                    if request.driver_id.is_empty() {
                        "MAX_ACTIVE sweeps one driver's cap in seat: name it".into()
                    } else {
                        format!("the plan has no driver {:?}", request.driver_id)
                    },
                );
            }
            index.map(Sweep::MaxActive)
        }
        _ => {
            violation(
                "over",
                "name the bound to sweep: BUDGET_CAP, MIN_MARGIN, REVENUE_TARGET, MAX_ACTIVE, \
                 MAX_CHANGE or CONFIDENCE"
                    .into(),
            );
            None
        }
    };
    let (lowest, highest) = over.map_or(Domain::Any, Sweep::domain).range();
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
        } else if over == Some(Sweep::Confidence) && (value <= 0.0 || value >= 1.0) {
            violation(
                field,
                format!("a confidence must be in (0, 1), got {value}"),
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

/// The wire form of a frontier of `plan`.
pub fn frontier_to_pb(frontier: &Frontier, plan: &model::Plan) -> pb::Frontier {
    pb::Frontier {
        over: match frontier.over {
            Sweep::BudgetCap => pb::SweptBound::BudgetCap,
            Sweep::MinMargin => pb::SweptBound::MinMargin,
            Sweep::RevenueTarget => pb::SweptBound::RevenueTarget,
            Sweep::MaxActive(_) => pb::SweptBound::MaxActive,
            Sweep::MaxChange => pb::SweptBound::MaxChange,
            Sweep::Confidence => pb::SweptBound::Confidence,
        } as i32,
        bound_name: frontier.over.name(plan),
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

    /// Drivers `a` and `b` over one period.
    fn plan() -> model::Plan {
        use crate::model::fixtures::{driver, plan};
        plan(
            &["total"],
            vec![
                driver("a", 1.0, &[(None, 2.0)], 1),
                driver("b", 1.0, &[(None, 1.0)], 1),
            ],
        )
    }

    fn sweep(request: &pb::FrontierRequest) -> Result<(Sweep, f64, f64), PlanError> {
        sweep_from_pb(request, &plan())
    }

    fn fields(request: &pb::FrontierRequest) -> Vec<String> {
        match sweep(request) {
            Err(PlanError::Invalid(violations)) => {
                violations.into_iter().map(|v| v.field).collect()
            }
            other => panic!("expected an invalid sweep, got {other:?}"),
        }
    }

    #[test]
    fn range_is_checked() {
        let ok = sweep(&request(pb::SweptBound::BudgetCap, 0.0, 100.0));
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

    #[test]
    fn a_cap_in_seat_names_a_driver_of_the_plan() {
        let mut seats = request(pb::SweptBound::MaxActive, 0.0, 10.0);
        assert_eq!(fields(&seats), ["driver_id"]);
        seats.driver_id = "nobody".into();
        assert_eq!(fields(&seats), ["driver_id"]);
        seats.driver_id = "b".into();
        assert_eq!(sweep(&seats), Ok((Sweep::MaxActive(1), 0.0, 10.0)));
        seats.from = -1.0;
        assert_eq!(fields(&seats), ["from"]);
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
        let message = format!("{:?}", sweep(&tiny));
        assert!(
            message.contains("must be 0 or at least 1e-15 in magnitude, got 8.35445291e-315"),
            "{message}"
        );
        let zero = sweep(&request(pb::SweptBound::MinMargin, 0.0, 1e-15));
        assert_eq!(zero, Ok((Sweep::MinMargin, 0.0, 1e-15)));
    }
}
