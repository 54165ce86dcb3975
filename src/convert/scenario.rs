//! Scenario results onto the wire.

use super::{driver_units_to_pb, status_to_pb, totals_to_pb, FieldViolation};
use crate::analysis::PlanReport;
use crate::pb;

/// The wire result of a solved scenario: status, totals and units per driver.
pub fn scenario_result_to_pb(id: &str, report: &PlanReport) -> pb::ScenarioResult {
    pb::ScenarioResult {
        scenario_id: id.into(),
        status: status_to_pb(report.status) as i32,
        totals: Some(totals_to_pb(&report.totals)),
        drivers: driver_units_to_pb(report),
        error: None,
        basis_reused: report.solver.basis_reused,
        basis_pivots: u32::try_from(report.solver.basis_pivots).unwrap_or(u32::MAX),
    }
}

/// The wire result of a scenario that could not be solved: `code` is the gRPC code
/// name the scenario alone would have failed with.
pub fn scenario_error_to_pb(
    id: &str,
    code: &str,
    message: String,
    violations: &[FieldViolation],
) -> pb::ScenarioResult {
    pb::ScenarioResult {
        scenario_id: id.into(),
        status: pb::SolveStatus::Unspecified as i32,
        totals: None,
        drivers: Vec::new(),
        basis_reused: false,
        basis_pivots: 0,
        error: Some(pb::ScenarioError {
            code: code.into(),
            message,
            field_violations: violations
                .iter()
                .map(|violation| pb::ScenarioFieldViolation {
                    field: violation.field.clone(),
                    description: violation.description.clone(),
                })
                .collect(),
        }),
    }
}
