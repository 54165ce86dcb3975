//! The tonic face of the planner: decode, run [`planner::optimize`] on a blocking
//! thread within the caller's deadline, map errors to gRPC statuses.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::convert::{Limits, PlanError};
use crate::error::Error;
use crate::pb::planner_service_server::PlannerService;
use crate::pb::{
    EvaluateRequest, EvaluateResponse, FrontierRequest, FrontierResponse, GetServerInfoRequest,
    GetServerInfoResponse, OptimizeRequest, OptimizeResponse, RunScenariosRequest, ScenarioResult,
    SolveStatus,
};
use crate::planner;

/// Share of the caller's deadline the solver may use; the rest carries the answer
/// back before tonic's own deadline fires (which would answer CANCELLED).
const DEADLINE_SHARE: f64 = 0.9;

/// Default most scenarios in one `RunScenarios` call: the request holds them all
/// in memory, so one call cannot take the server's.
pub const DEFAULT_MAX_SCENARIOS: usize = 10_000;

/// The `tradeoff.v1.PlannerService` implementation.
#[derive(Debug, Clone)]
pub struct Planner {
    limits: Limits,
    max_scenarios: usize,
    /// One permit per core, shared by every `RunScenarios` call, so that many
    /// concurrent batches together still solve on all cores, not more.
    cores: Arc<Semaphore>,
}

impl Default for Planner {
    fn default() -> Self {
        Planner::new(Limits::default())
    }
}

impl Planner {
    /// A planner that refuses plans over `limits`.
    pub fn new(limits: Limits) -> Self {
        Planner {
            limits,
            max_scenarios: DEFAULT_MAX_SCENARIOS,
            cores: Arc::new(Semaphore::new(parallelism())),
        }
    }

    /// The same planner refusing `RunScenarios` calls with more than `max`
    /// scenarios (RESOURCE_EXHAUSTED).
    pub fn with_max_scenarios(self, max: usize) -> Self {
        Planner {
            max_scenarios: max,
            ..self
        }
    }
}

#[tonic::async_trait]
impl PlannerService for Planner {
    async fn optimize(
        &self,
        request: Request<OptimizeRequest>,
    ) -> Result<Response<OptimizeResponse>, Status> {
        let limits = self.limits;
        let (request, deadline) = split(request);
        let options = request.options;
        let response = within_deadline(options.as_ref(), deadline, move |time_limit| {
            planner::optimize(&request, &limits, time_limit)
        })
        .await?;
        let result_status = response.result.as_ref().map(|result| result.status);
        check_deadline(options.as_ref(), deadline, result_status)?;
        Ok(Response::new(response))
    }

    async fn evaluate(
        &self,
        request: Request<EvaluateRequest>,
    ) -> Result<Response<EvaluateResponse>, Status> {
        let limits = self.limits;
        let (request, deadline) = split(request);
        let options = request.options;
        let response = within_deadline(options.as_ref(), deadline, move |time_limit| {
            planner::evaluate(&request, &limits, time_limit)
        })
        .await?;
        let optimum_status = response
            .evaluation
            .as_ref()
            .and_then(|evaluation| evaluation.optimum.as_ref())
            .map(|optimum| optimum.status);
        check_deadline(options.as_ref(), deadline, optimum_status)?;
        Ok(Response::new(response))
    }

    async fn frontier(
        &self,
        request: Request<FrontierRequest>,
    ) -> Result<Response<FrontierResponse>, Status> {
        let limits = self.limits;
        let (request, deadline) = split(request);
        let options = request.options;
        let response = within_deadline(options.as_ref(), deadline, move |time_limit| {
            planner::frontier(&request, &limits, time_limit)
        })
        .await?;
        // A sweep the deadline cut short counts as timed out.
        let cut_short = response
            .frontier
            .as_ref()
            .is_some_and(|frontier| !frontier.complete);
        let status = cut_short.then_some(SolveStatus::TimeLimit as i32);
        check_deadline(options.as_ref(), deadline, status)?;
        Ok(Response::new(response))
    }

    async fn get_server_info(
        &self,
        _request: Request<GetServerInfoRequest>,
    ) -> Result<Response<GetServerInfoResponse>, Status> {
        Ok(Response::new(planner::server_info(
            &self.limits,
            self.max_scenarios,
        )))
    }

    type RunScenariosStream = ReceiverStream<Result<ScenarioResult, Status>>;

    async fn run_scenarios(
        &self,
        request: Request<RunScenariosRequest>,
    ) -> Result<Response<Self::RunScenariosStream>, Status> {
        let (request, deadline) = split(request);
        if request.scenarios.len() > self.max_scenarios {
            return Err(Status::resource_exhausted(format!(
                "too many scenarios: {}, the limit is {} per call; split the batch",
                request.scenarios.len(),
                self.max_scenarios
            )));
        }
        let batch = planner::scenario_batch(
            request.base.as_ref(),
            request.options.as_ref(),
            &self.limits,
        )?;
        let deadline = deadline.map(|deadline| Instant::now() + deadline);
        let (sender, receiver) = mpsc::channel(parallelism());
        tokio::spawn(run_batch(
            Arc::new(batch),
            request.scenarios,
            deadline,
            Arc::clone(&self.cores),
            sender,
        ));
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

/// The number of cores (1 when unknown).
fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Solves the scenarios of one `RunScenarios` call, handing each result to
/// `results` as it finishes. Each solve holds one of the server's `cores` while it
/// runs; at most one scenario per core of this call is in flight (solving, or
/// solved and waiting for the client to take it), so memory stays bounded however
/// many scenarios there are and however slowly the client reads, and a slow reader
/// holds up only its own call. Spawning stops as soon as the client goes away.
async fn run_batch(
    batch: Arc<planner::ScenarioBatch>,
    scenarios: Vec<crate::pb::Scenario>,
    deadline: Option<Instant>,
    cores: Arc<Semaphore>,
    results: mpsc::Sender<Result<ScenarioResult, Status>>,
) {
    let in_flight = Arc::new(Semaphore::new(parallelism()));
    for (index, scenario) in scenarios.into_iter().enumerate() {
        let permit = tokio::select! {
            permit = Arc::clone(&in_flight).acquire_owned() => permit,
            () = results.closed() => break,
        };
        let Ok(permit) = permit else { break };
        let batch = Arc::clone(&batch);
        let cores = Arc::clone(&cores);
        let results = results.clone();
        tokio::spawn(async move {
            let id = scenario.id.clone();
            let core = cores.acquire_owned().await;
            if results.is_closed() {
                // The client went away while this scenario waited for a core.
                return;
            }
            let time_limit = crate::solve::remaining(deadline);
            let solved =
                tokio::task::spawn_blocking(move || batch.run(index, &scenario, time_limit)).await;
            drop(core);
            let result = solved.unwrap_or_else(|error| {
                tracing::error!(scenario = %id, %error, "scenario task failed");
                crate::convert::scenario_error_to_pb(
                    &id,
                    "INTERNAL",
                    format!("solver task failed: {error}"),
                    &[],
                )
            });
            // A client that went away is no error; the spawning loop stops.
            let _ = results.send(Ok(result)).await;
            drop(permit);
        });
    }
}

/// The message and the share of the caller's deadline the work may use.
fn split<T>(request: Request<T>) -> (T, Option<Duration>) {
    let deadline = grpc_timeout(request.metadata()).map(|timeout| timeout.mul_f64(DEADLINE_SHARE));
    (request.into_inner(), deadline)
}

/// Runs `work` on a blocking thread with the tighter of `deadline` and the request's
/// own time limit passed down; the deadline also bounds the wait itself.
async fn within_deadline<T: Send + 'static>(
    options: Option<&crate::pb::SolveOptions>,
    deadline: Option<Duration>,
    work: impl FnOnce(Option<Duration>) -> Result<T, Error> + Send + 'static,
) -> Result<T, Status> {
    // Invalid options are refused before any work starts.
    planner::solve_options(options).map_err(Status::from)?;
    let task = tokio::task::spawn_blocking(move || work(deadline));
    let joined = match deadline {
        // The solver honours the deadline itself; this is the backstop.
        Some(deadline) => tokio::time::timeout(deadline + Duration::from_millis(50), task)
            .await
            .map_err(|_| Status::from(Error::DeadlineExceeded))?,
        None => task.await,
    };
    joined
        .map_err(|error| Status::from(Error::Internal(format!("solver task failed: {error}"))))?
        .map_err(Status::from)
}

/// A solve cut short by the caller's deadline (rather than by its own
/// `options.time_limit`) answers DEADLINE_EXCEEDED.
fn check_deadline(
    options: Option<&crate::pb::SolveOptions>,
    deadline: Option<Duration>,
    status: Option<i32>,
) -> Result<(), Status> {
    let requested = planner::solve_options(options)
        .map_err(Status::from)?
        .time_limit;
    let limited_by_deadline =
        deadline.is_some_and(|deadline| requested.is_none_or(|limit| deadline < limit));
    if limited_by_deadline && status == Some(SolveStatus::TimeLimit as i32) {
        return Err(Error::DeadlineExceeded.into());
    }
    Ok(())
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
            Error::Solve(unavailable @ crate::solve::SolveError::Unavailable(_)) => {
                Status::failed_precondition(unavailable.to_string())
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
