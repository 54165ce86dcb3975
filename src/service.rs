//! The tonic face of the planner: decode, run [`planner::optimize`] on a blocking
//! thread within the caller's deadline, map errors to gRPC statuses.

use std::time::Duration;

use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::convert::{Limits, PlanError};
use crate::error::Error;
use crate::pb::planner_service_server::PlannerService;
use crate::pb::{OptimizeRequest, OptimizeResponse, SolveStatus};
use crate::planner;

/// Share of the caller's deadline the solver may use; the rest carries the answer
/// back before tonic's own deadline fires (which would answer CANCELLED).
const DEADLINE_SHARE: f64 = 0.9;

/// The `tradeoff.v1.PlannerService` implementation.
#[derive(Debug, Clone, Default)]
pub struct Planner {
    limits: Limits,
}

impl Planner {
    /// A planner that refuses plans over `limits`.
    pub fn new(limits: Limits) -> Self {
        Planner { limits }
    }
}

#[tonic::async_trait]
impl PlannerService for Planner {
    async fn optimize(
        &self,
        request: Request<OptimizeRequest>,
    ) -> Result<Response<OptimizeResponse>, Status> {
        let deadline =
            grpc_timeout(request.metadata()).map(|timeout| timeout.mul_f64(DEADLINE_SHARE));
        let request = request.into_inner();
        let requested_limit = planner::solve_options(request.options.as_ref())
            .map_err(Status::from)?
            .time_limit;
        let limited_by_deadline =
            deadline.is_some_and(|deadline| requested_limit.is_none_or(|limit| deadline < limit));
        let limits = self.limits;
        let solve =
            tokio::task::spawn_blocking(move || planner::optimize(&request, &limits, deadline));
        let joined = match deadline {
            // The solver honours the deadline itself; this is the backstop.
            Some(deadline) => tokio::time::timeout(deadline + Duration::from_millis(50), solve)
                .await
                .map_err(|_| Status::from(Error::DeadlineExceeded))?,
            None => solve.await,
        };
        let response = joined.map_err(|error| {
            Status::from(Error::Internal(format!("solver task failed: {error}")))
        })??;
        let timed_out = response
            .result
            .as_ref()
            .is_some_and(|result| result.status == SolveStatus::TimeLimit as i32);
        if timed_out && limited_by_deadline {
            return Err(Error::DeadlineExceeded.into());
        }
        Ok(Response::new(response))
    }
}

/// The caller's deadline from the `grpc-timeout` header (`<digits><unit>`, units
/// H, M, S, m, u, n), if any.
fn grpc_timeout(metadata: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Plan(PlanError::Invalid(violations)) => {
                let mut details = ErrorDetails::new();
                for violation in &violations {
                    details.add_bad_request_violation(&violation.field, &violation.description);
                }
                let message = format!(
                    "invalid plan: {} violation(s); first: {}",
                    violations.len(),
                    violations
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                );
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            Error::Plan(too_large @ PlanError::TooLarge { .. }) => {
                Status::resource_exhausted(too_large.to_string())
            }
            Error::Solve(error) => {
                tracing::error!(%error, "solve failed");
                Status::internal(error.to_string())
            }
            Error::DeadlineExceeded => Status::deadline_exceeded(error.to_string()),
            Error::Internal(message) => {
                tracing::error!(%message, "internal error");
                Status::internal(message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grpc_timeouts() {
        let mut metadata = tonic::metadata::MetadataMap::new();
        assert_eq!(grpc_timeout(&metadata), None);
        for (header, expected) in [
            ("100m", Duration::from_millis(100)),
            ("5S", Duration::from_secs(5)),
            ("2M", Duration::from_secs(120)),
            ("1H", Duration::from_secs(3600)),
            ("250u", Duration::from_micros(250)),
            ("7n", Duration::from_nanos(7)),
        ] {
            metadata.insert("grpc-timeout", header.parse().expect("header"));
            assert_eq!(grpc_timeout(&metadata), Some(expected), "{header}");
        }
        metadata.insert("grpc-timeout", "12x".parse().expect("header"));
        assert_eq!(grpc_timeout(&metadata), None);
    }
}
