//! The solver engine a request asks for.

use super::{FieldViolation, PlanError};
use crate::pb;
use crate::solve::{Backend, SolverChoice};

/// The engine named by `options.solver` (unset: AUTO).
pub fn solver_from_pb(solver: i32) -> Result<SolverChoice, PlanError> {
    match pb::Solver::try_from(solver) {
        Ok(pb::Solver::Unspecified | pb::Solver::Auto) => Ok(SolverChoice::Auto),
        Ok(pb::Solver::Microlp) => Ok(SolverChoice::Only(Backend::Microlp)),
        Ok(pb::Solver::Highs) => Ok(SolverChoice::Only(Backend::Highs)),
        Err(_) => Err(PlanError::Invalid(vec![FieldViolation {
            field: "options.solver".into(),
            description: format!(
                "unknown solver {solver}; expected SOLVER_AUTO (1), SOLVER_MICROLP (2) or \
                 SOLVER_HIGHS (3)"
            ),
        }])),
    }
}

/// The wire value of an engine.
pub fn backend_to_pb(backend: Backend) -> pb::Solver {
    match backend {
        Backend::Microlp => pb::Solver::Microlp,
        Backend::Highs => pb::Solver::Highs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_means_auto_and_unknown_values_name_the_field() {
        assert_eq!(solver_from_pb(0), Ok(SolverChoice::Auto));
        assert_eq!(
            solver_from_pb(pb::Solver::Highs as i32),
            Ok(SolverChoice::Only(Backend::Highs))
        );
        let Err(PlanError::Invalid(violations)) = solver_from_pb(9) else {
            panic!("9 is no solver");
        };
        assert_eq!(violations[0].field, "options.solver");
    }
}
