//! The library's error: everything that stops a request from getting a result.
//! Infeasible, unbounded and timed-out plans are results, not errors.

use crate::convert::PlanError;
use crate::solve::SolveError;

/// Why a request got no result.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan or the options are invalid, or the plan is too large.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The solver could not produce a trustworthy result.
    #[error(transparent)]
    Solve(#[from] SolveError),
    /// The caller's deadline passed before the solve finished.
    #[error("the deadline passed before the solve finished")]
    DeadlineExceeded,
    /// The server is at capacity: every solver busy and every place in its queue
    /// taken. Retry after the delay it gives.
    #[error(transparent)]
    Overloaded(#[from] crate::pool::Full),
    /// The solver thread ended without an answer: it panicked.
    #[error(transparent)]
    Worker(#[from] crate::pool::JobError),
    /// Something outside the model went wrong (a worker thread died).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The gRPC status code an error answers with. The one mapping from library errors
/// to codes: the service turns it into a `tonic` status, and a batch's per-scenario
/// errors carry its name (`ScenarioResult.error.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request (a plan, an option, a scenario) breaks a rule; fixing it helps.
    InvalidArgument,
    /// Too large for this server's limits, or the server is at capacity.
    ResourceExhausted,
    /// The request asks for something this build lacks (an engine not compiled in).
    FailedPrecondition,
    /// The caller's deadline passed first.
    DeadlineExceeded,
    /// The solver or the server failed: not the caller's fault.
    Internal,
}

impl ErrorCode {
    /// The code's canonical gRPC name, as results and logs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::ResourceExhausted => "RESOURCE_EXHAUSTED",
            ErrorCode::FailedPrecondition => "FAILED_PRECONDITION",
            ErrorCode::DeadlineExceeded => "DEADLINE_EXCEEDED",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl Error {
    /// The gRPC code this error answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Plan(PlanError::Invalid(_)) => ErrorCode::InvalidArgument,
            Error::Plan(PlanError::TooLarge { .. }) | Error::Overloaded(_) => {
                ErrorCode::ResourceExhausted
            }
            Error::Solve(SolveError::Unavailable(_)) => ErrorCode::FailedPrecondition,
            Error::DeadlineExceeded => ErrorCode::DeadlineExceeded,
            Error::Solve(_) | Error::Worker(_) | Error::Internal(_) => ErrorCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::FieldViolation;
    use crate::solve::Backend;

    #[test]
    fn each_error_answers_with_its_grpc_code() {
        let invalid = Error::Plan(PlanError::Invalid(vec![FieldViolation {
            field: "drivers[0].unit_cost".into(),
            description: "must be positive".into(),
        }]));
        assert_eq!(invalid.code().as_str(), "INVALID_ARGUMENT");
        let unavailable = Error::Solve(SolveError::Unavailable(Backend::Highs));
        assert_eq!(unavailable.code(), ErrorCode::FailedPrecondition);
        let failed = Error::Solve(SolveError::Backend("Singular matrix".into()));
        assert_eq!(failed.code().as_str(), "INTERNAL");
        assert_eq!(Error::DeadlineExceeded.code().as_str(), "DEADLINE_EXCEEDED");
        assert_eq!(Error::Internal("gone".into()).code(), ErrorCode::Internal);
    }
}
