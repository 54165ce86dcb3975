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
