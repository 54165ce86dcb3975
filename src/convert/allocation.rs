//! Allocations (units per driver per period) between the wire and the domain.

use std::collections::HashMap;

use super::result::{result_to_pb, tidy};
use super::{FieldViolation, PlanError};
use crate::analysis::{Allocation, Evaluation};
use crate::model::{Plan, MAX_MAGNITUDE};
use crate::pb;

/// Checks `allocation` against `plan` (every driver id exists once, one finite,
/// non-negative entry per period) and returns units per driver (plan order) per
/// period; drivers not listed commit nothing.
pub fn allocation_from_pb(
    allocation: &pb::Allocation,
    plan: &Plan,
) -> Result<Allocation, PlanError> {
    let periods = plan.periods.len();
    let index: HashMap<&str, usize> = plan
        .drivers
        .iter()
        .enumerate()
        .map(|(i, driver)| (driver.id.as_str(), i))
        .collect();
    let mut units = vec![vec![0.0; periods]; plan.drivers.len()];
    let mut seen = vec![false; plan.drivers.len()];
    let mut violations = Vec::new();
    let mut violation = |field: String, description: String| {
        violations.push(FieldViolation { field, description });
    };
    for (a, entry) in allocation.drivers.iter().enumerate() {
        let path = format!("allocation.drivers[{a}]");
        let Some(&i) = index.get(entry.driver_id.as_str()) else {
            violation(
                format!("{path}.driver_id"),
                format!("no driver `{}` in the plan", entry.driver_id),
            );
            continue;
        };
        if std::mem::replace(&mut seen[i], true) {
            violation(
                format!("{path}.driver_id"),
                format!("driver `{}` is listed twice", entry.driver_id),
            );
            continue;
        }
        if entry.units.len() != periods {
            violation(
                format!("{path}.units"),
                format!(
                    "needs one entry per period ({periods}), got {}",
                    entry.units.len()
                ),
            );
            continue;
        }
        for (t, &value) in entry.units.iter().enumerate() {
            if !value.is_finite() || !(0.0..=MAX_MAGNITUDE).contains(&value) {
                violation(
                    format!("{path}.units[{t}]"),
                    format!("must be a finite number in [0, 1e15], got {value}"),
                );
            } else {
                units[i][t] = value;
            }
        }
    }
    if violations.is_empty() {
        Ok(units)
    } else {
        Err(PlanError::Invalid(violations))
    }
}

/// The wire form of an evaluation.
pub fn evaluation_to_pb(evaluation: &Evaluation) -> pb::Evaluation {
    pb::Evaluation {
        given: Some(result_to_pb(&evaluation.report)),
        feasible: evaluation.violations.is_empty(),
        violations: evaluation
            .violations
            .iter()
            .map(|violation| pb::RuleViolation {
                name: violation.name.clone(),
                amount: tidy(violation.amount),
            })
            .collect(),
        optimum: Some(result_to_pb(&evaluation.optimum)),
        gaps: evaluation
            .gaps
            .iter()
            .map(|gap| pb::DriverGap {
                driver_id: gap.id.clone(),
                units_change: gap.units_change.iter().copied().map(tidy).collect(),
                revenue_change: tidy(gap.revenue_change),
                spend_change: tidy(gap.spend_change),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::worked_example;

    fn entry(id: &str, units: &[f64]) -> pb::DriverAllocation {
        pb::DriverAllocation {
            driver_id: id.into(),
            units: units.to_vec(),
        }
    }

    #[test]
    fn unlisted_drivers_commit_nothing() {
        let allocation = pb::Allocation {
            drivers: vec![entry("b", &[7.0])],
        };
        let units = allocation_from_pb(&allocation, &worked_example(0.2)).expect("valid");
        assert_eq!(units, vec![vec![0.0], vec![7.0]]);
    }

    #[test]
    fn every_fault_is_listed_with_its_path() {
        let allocation = pb::Allocation {
            drivers: vec![
                entry("nope", &[1.0]),
                entry("a", &[1.0, 2.0]),
                entry("b", &[-1.0]),
                entry("b", &[1.0]),
            ],
        };
        let Err(PlanError::Invalid(violations)) =
            allocation_from_pb(&allocation, &worked_example(0.2))
        else {
            panic!("must be refused");
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "allocation.drivers[0].driver_id",
                "allocation.drivers[1].units",
                "allocation.drivers[2].units[0]",
                "allocation.drivers[3].driver_id",
            ]
        );
    }

    #[test]
    fn non_finite_units_are_refused() {
        let allocation = pb::Allocation {
            drivers: vec![entry("a", &[f64::NAN])],
        };
        assert!(allocation_from_pb(&allocation, &worked_example(0.2)).is_err());
    }
}
