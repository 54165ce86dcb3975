//! A request's solve options and its required parts: the wire form checked and
//! turned into [`SolveOptions`], every problem named by its field path.

use std::time::Duration;

use super::{solver_from_pb, FieldViolation, PlanError};
use crate::pb;
use crate::solve::SolveOptions;

/// The solve options a request asks for (none: explanations on, AUTO, no time
/// limit). Whether the build has the engine asked for is the planner's question.
pub fn solve_options_from_pb(
    options: Option<&pb::SolveOptions>,
) -> Result<SolveOptions, PlanError> {
    let Some(options) = options else {
        return Ok(SolveOptions::default());
    };
    Ok(SolveOptions {
        time_limit: options
            .time_limit
            .as_ref()
            .map(|limit| duration_from_pb(limit, "options.time_limit"))
            .transpose()?,
        explain: !options.skip_explanations,
        solver: solver_from_pb(options.solver)?,
    })
}

/// A non-negative wire duration (`field` names it in the refusal).
fn duration_from_pb(duration: &pbjson_types::Duration, field: &str) -> Result<Duration, PlanError> {
    let seconds = u64::try_from(duration.seconds);
    let nanos = u32::try_from(duration.nanos);
    match (seconds, nanos) {
        (Ok(seconds), Ok(nanos)) if nanos < 1_000_000_000 => Ok(Duration::new(seconds, nanos)),
        _ => Err(PlanError::Invalid(vec![FieldViolation {
            field: field.into(),
            description: "must be a non-negative duration".into(),
        }])),
    }
}

/// The refusal of a request without one of its required parts (`plan`,
/// `allocation`, a batch's `base`).
pub fn missing(field: &str, what: &str) -> PlanError {
    PlanError::Invalid(vec![FieldViolation {
        field: field.into(),
        description: format!("{what} is required"),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::{Backend, SolverChoice};

    #[test]
    fn no_options_mean_the_defaults() {
        assert_eq!(solve_options_from_pb(None), Ok(SolveOptions::default()));
        assert_eq!(
            solve_options_from_pb(Some(&pb::SolveOptions::default())),
            Ok(SolveOptions::default())
        );
    }

    #[test]
    fn every_option_is_read() {
        let options = pb::SolveOptions {
            time_limit: Some(pbjson_types::Duration {
                seconds: 2,
                nanos: 500_000_000,
            }),
            skip_explanations: true,
            solver: pb::Solver::Microlp as i32,
        };
        assert_eq!(
            solve_options_from_pb(Some(&options)),
            Ok(SolveOptions {
                time_limit: Some(Duration::from_millis(2_500)),
                explain: false,
                solver: SolverChoice::Only(Backend::Microlp),
            })
        );
    }

    #[test]
    fn negative_or_malformed_durations_name_their_field() {
        for (seconds, nanos) in [(-1, 0), (0, -1), (1, 1_000_000_000)] {
            let options = pb::SolveOptions {
                time_limit: Some(pbjson_types::Duration { seconds, nanos }),
                ..pb::SolveOptions::default()
            };
            let Err(PlanError::Invalid(violations)) = solve_options_from_pb(Some(&options)) else {
                panic!("{seconds} s {nanos} ns is no time limit");
            };
            assert_eq!(violations[0].field, "options.time_limit");
        }
    }

    #[test]
    fn a_missing_part_is_named() {
        let PlanError::Invalid(violations) = missing("base", "a base plan") else {
            panic!("a missing part is an invalid request");
        };
        assert_eq!(violations[0].field, "base");
        assert_eq!(violations[0].description, "a base plan is required");
    }
}
