//! Wire ⇄ domain: turns `pb` messages into validated [`crate::model`] types,
//! enforcing every validity rule of docs/MODEL.md §1 and collecting *all* violations
//! with their field paths, and turns solve results back into `pb` messages.
//!
//! This is the only module that knows both the wire types and the domain types.

mod allocation;
mod frontier;
mod json;
mod options;
pub mod overrides;
mod plan;
mod result;
mod scenario;
mod solver;
mod unique_keys;

pub use allocation::{allocation_from_pb, evaluation_to_pb};
pub use frontier::{frontier_to_pb, sweep_from_pb};
pub use json::{parse_allocation_json, parse_plan_json, parse_scenario_json, JsonError};
pub use options::{missing, solve_options_from_pb};
pub use plan::{count_variables, plan_from_pb, DEFAULT_SAMPLE_COUNT, MAX_OUTCOMES};
pub use result::{
    driver_units_to_pb, objective_to_pb, result_to_pb, sense_to_pb, status_to_pb, tidy,
    totals_to_pb,
};
pub use scenario::{scenario_error_to_pb, scenario_result_to_pb};
pub use solver::{backend_to_pb, solver_from_pb};
pub use unique_keys::{check_unique_keys, RepeatedKey};

/// One broken validity rule: where (a field path such as
/// `drivers[2].response[1].revenue_per_unit`, proto field names) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the offending field from the plan root, proto `snake_case` names.
    pub field: String,
    /// What is wrong, in words a planner understands.
    pub description: String,
}

impl std::fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// Why a plan was refused before anything was solved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The plan breaks validity rules; every violation is listed.
    #[error("invalid plan: {}", summarize(.0))]
    Invalid(Vec<FieldViolation>),
    /// The plan is larger than this server or CLI is configured to solve.
    #[error("plan too large: {what} is {actual}, the limit is {limit}")]
    TooLarge {
        /// What was counted: "drivers", "periods", "segments of a driver",
        /// "variables".
        what: &'static str,
        /// The plan's count.
        actual: usize,
        /// The configured limit.
        limit: usize,
    },
}

fn summarize(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Size limits checked before any program is built, so that one request cannot take
/// the memory or the solver time of all others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most drivers in one plan.
    pub max_drivers: usize,
    /// Most periods in one plan.
    pub max_periods: usize,
    /// Most response segments of one driver.
    pub max_segments: usize,
    /// Most variables of the linear program (see [`count_variables`]).
    pub max_variables: usize,
}

impl Default for Limits {
    /// Generous for planning (a 5-year monthly plan with hundreds of drivers fits)
    /// while keeping one solve within a few GiB.
    fn default() -> Self {
        Limits {
            max_drivers: 5_000,
            max_periods: 120,
            max_segments: 50,
            max_variables: 200_000,
        }
    }
}
