//! The tonic face of the planner: decode, take a place in the solver pool, run the
//! library call on a solver thread within the caller's deadline, map errors to gRPC
//! statuses.
//!
//! Every call gets a request id — the client's `x-request-id` when it sends a usable
//! one, a new one otherwise — that is logged with everything the call does and
//! echoed in the reply's metadata, error or not. A call that finds the pool full is
//! refused at once with RESOURCE_EXHAUSTED and a retry delay; a solver that panics
//! answers INTERNAL and the server serves on; a call whose client goes away or whose
//! deadline passes stops its solves.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tracing::Instrument;

use crate::convert::{Limits, PlanError};
use crate::error::{Error, ErrorCode};
use crate::pb::planner_service_server::PlannerService;
use crate::pb::{
    self, EvaluateRequest, EvaluateResponse, FrontierRequest, FrontierResponse,
    GetServerInfoRequest, GetServerInfoResponse, OptimizeRequest, OptimizeResponse,
    RunScenariosRequest, ScenarioResult, SolveStatus,
};
use crate::planner::{self, tighter};
use crate::pool::{Admission, JobError, SolverPool};
use crate::solve::{remaining, with_cancel, CancelToken};

/// Share of the caller's deadline the solver may use; the rest carries the answer
/// back before tonic's own deadline fires (which would answer CANCELLED).
const DEADLINE_SHARE: f64 = 0.9;
/// Share of the caller's deadline after which the service stops waiting for a
/// solver that overran its limit and answers DEADLINE_EXCEEDED itself.
const BACKSTOP_SHARE: f64 = 0.95;

/// Default most scenarios in one `RunScenarios` call: the request holds them all
/// in memory, so one call cannot take the server's.
pub const DEFAULT_MAX_SCENARIOS: usize = 10_000;

/// Default longest time any one call may solve, whatever its deadline and
/// `options.time_limit` say: a solve whose client set neither (and then went
/// away) must still end.
pub const DEFAULT_MAX_SOLVE_TIME: Duration = Duration::from_secs(300);

/// Metadata key of a call's request id, read from the request and set on the reply.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Longest request id honoured; a longer one (or one with spaces or non-ASCII
/// characters) is replaced by a new id, so that logs stay one readable line.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The `tradeoff.v1.PlannerService` implementation.
#[derive(Debug, Clone)]
pub struct Planner {
    limits: Limits,
    max_scenarios: usize,
    max_solve_time: Duration,
    /// Shared by every call of the server (unary calls and batch scenarios
    /// alike), so that together they solve on `workers` threads, not more.
    pool: SolverPool,
}

impl Default for Planner {
    fn default() -> Self {
        Planner::new(Limits::default())
    }
}

impl Planner {
    /// A planner that refuses plans over `limits`, solving on a pool of one
    /// worker per core.
    pub fn new(limits: Limits) -> Self {
        Planner {
            limits,
            max_scenarios: DEFAULT_MAX_SCENARIOS,
            max_solve_time: DEFAULT_MAX_SOLVE_TIME,
            pool: SolverPool::new(crate::pool::PoolConfig::default()),
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

    /// The same planner solving on `pool`.
    pub fn with_pool(self, pool: SolverPool) -> Self {
        Planner { pool, ..self }
    }

    /// The same planner stopping every solve after `max` (a TIME_LIMIT result, as
    /// if the call had asked for that time limit).
    pub fn with_max_solve_time(self, max: Duration) -> Self {
        Planner {
            max_solve_time: max,
            ..self
        }
    }
}

/// One unary RPC: its library call, and how to read its request and response.
struct Unary<Q, R> {
    options: fn(&Q) -> Option<&pb::SolveOptions>,
    work: fn(&Q, &Limits, Option<Duration>) -> Result<R, Error>,
    /// Whether the response says the solve ran out of time.
    timed_out: fn(&R) -> bool,
}

#[tonic::async_trait]
impl PlannerService for Planner {
    async fn optimize(
        &self,
        request: Request<OptimizeRequest>,
    ) -> Result<Response<OptimizeResponse>, Status> {
        let rpc = Unary {
            options: |request: &OptimizeRequest| request.options.as_ref(),
            work: planner::optimize,
            timed_out: |response: &OptimizeResponse| {
                response.result.as_ref().map(|result| result.status)
                    == Some(SolveStatus::TimeLimit as i32)
            },
        };
        self.unary(request, rpc).await
    }

    async fn evaluate(
        &self,
        request: Request<EvaluateRequest>,
    ) -> Result<Response<EvaluateResponse>, Status> {
        let rpc = Unary {
            options: |request: &EvaluateRequest| request.options.as_ref(),
            work: planner::evaluate,
            timed_out: |response: &EvaluateResponse| {
                response
                    .evaluation
                    .as_ref()
                    .and_then(|evaluation| evaluation.optimum.as_ref())
                    .map(|optimum| optimum.status)
                    == Some(SolveStatus::TimeLimit as i32)
            },
        };
        self.unary(request, rpc).await
    }

    async fn frontier(
        &self,
        request: Request<FrontierRequest>,
    ) -> Result<Response<FrontierResponse>, Status> {
        let rpc = Unary {
            options: |request: &FrontierRequest| request.options.as_ref(),
            work: planner::frontier,
            // A sweep the time limit cut short counts as timed out.
            timed_out: |response: &FrontierResponse| {
                response
                    .frontier
                    .as_ref()
                    .is_some_and(|frontier| !frontier.complete)
            },
        };
        self.unary(request, rpc).await
    }

    async fn get_server_info(
        &self,
        _request: Request<GetServerInfoRequest>,
    ) -> Result<Response<GetServerInfoResponse>, Status> {
        Ok(Response::new(planner::server_info(
            &self.limits,
            self.max_scenarios,
            self.pool.config(),
            self.max_solve_time,
        )))
    }

    type RunScenariosStream = ReceiverStream<Result<ScenarioResult, Status>>;

    async fn run_scenarios(
        &self,
        request: Request<RunScenariosRequest>,
    ) -> Result<Response<Self::RunScenariosStream>, Status> {
        let call = Call::new(request.metadata());
        let span = tracing::info_span!("call", request_id = %call.id);
        let id = call.id.clone();
        let started = async { self.start_batch(&call, request.into_inner()) }
            .instrument(span)
            .await;
        reply(&id, started.map(ReceiverStream::new))
    }
}

/// What the service knows of a call besides its message.
struct Call {
    /// Its request id.
    id: String,
    /// When its solves must end: [`DEADLINE_SHARE`] of the caller's deadline.
    deadline: Option<Instant>,
    /// When the service stops waiting for them: [`BACKSTOP_SHARE`] of it.
    backstop: Option<Instant>,
}

impl Call {
    fn new(metadata: &MetadataMap) -> Call {
        let now = Instant::now();
        let timeout = grpc_timeout(metadata);
        // A deadline too far away to represent is no deadline.
        let at = |share: f64| timeout.and_then(|timeout| now.checked_add(timeout.mul_f64(share)));
        Call {
            id: request_id(metadata),
            deadline: at(DEADLINE_SHARE),
            backstop: at(BACKSTOP_SHARE),
        }
    }
}

impl Planner {
    /// Runs a unary call in its request's span and replies with its request id.
    async fn unary<Q, R>(
        &self,
        request: Request<Q>,
        rpc: Unary<Q, R>,
    ) -> Result<Response<R>, Status>
    where
        Q: Send + 'static,
        R: Send + 'static,
    {
        let call = Call::new(request.metadata());
        let span = tracing::info_span!("call", request_id = %call.id);
        let id = call.id.clone();
        let outcome = async {
            self.solve_unary(&call, request.into_inner(), rpc)
                .await
                .map_err(Status::from)
        }
        .instrument(span)
        .await;
        reply(&id, outcome)
    }

    /// Admits the call to the pool (or refuses it at once), runs its library call
    /// on a solver thread with the tighter of the caller's deadline, its own time
    /// limit and the server's maximum passed down, and stops the solve when this
    /// future is dropped (the client went away).
    async fn solve_unary<Q, R>(&self, call: &Call, message: Q, rpc: Unary<Q, R>) -> Result<R, Error>
    where
        Q: Send + 'static,
        R: Send + 'static,
    {
        // Invalid options are refused before the call takes a place.
        let requested = planner::solve_options((rpc.options)(&message))?.time_limit;
        let admission = self.pool.try_admit()?;
        let token = CancelToken::new();
        // Dropped with this future: when the client goes away, or when the
        // backstop below gives up, the solves stop at their next check.
        let _cancel = token.cancel_on_drop();
        let (limits, max_solve_time, deadline, work) =
            (self.limits, self.max_solve_time, call.deadline, rpc.work);
        let span = tracing::Span::current();
        let job = admission.run(move || {
            span.in_scope(|| {
                with_cancel(&token, || {
                    // The deadline counts from the request: time spent waiting in
                    // the queue is gone.
                    let left = remaining(deadline);
                    let own = tighter(requested, Some(max_solve_time));
                    let by_deadline = left.is_some_and(|left| own.is_none_or(|own| left < own));
                    let outcome = work(&message, &limits, tighter(left, Some(max_solve_time)));
                    (outcome, by_deadline)
                })
            })
        });
        let (outcome, by_deadline) = match call.backstop {
            // The solver honours the deadline itself; this is the backstop.
            Some(backstop) => tokio::time::timeout_at(backstop.into(), job)
                .await
                .map_err(|_| Error::DeadlineExceeded)??,
            None => job.await?,
        };
        let response = outcome?;
        // A solve cut short by the caller's deadline (rather than by its own time
        // limit) answers DEADLINE_EXCEEDED.
        if by_deadline && (rpc.timed_out)(&response) {
            return Err(Error::DeadlineExceeded);
        }
        Ok(response)
    }

    /// Checks a `RunScenarios` call and starts solving its scenarios in the
    /// background; the receiver streams their results.
    fn start_batch(
        &self,
        call: &Call,
        request: RunScenariosRequest,
    ) -> Result<mpsc::Receiver<Result<ScenarioResult, Status>>, Status> {
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
        // A batch that cannot even start on a saturated server is refused like any
        // call; once started, its scenarios wait their turn instead of failing.
        let first = self.pool.try_admit().map_err(Error::from)?;
        let workers = self.pool.config().workers;
        let (sender, receiver) = mpsc::channel(workers);
        let run = BatchRun {
            batch: Arc::new(batch),
            deadline: call.deadline,
            max_solve_time: self.max_solve_time,
            pool: self.pool.clone(),
        };
        tokio::spawn(run_batch(run, request.scenarios, first, sender).in_current_span());
        Ok(receiver)
    }
}

/// The reply to a call, with its request id in the metadata, error or not.
fn reply<T>(id: &str, outcome: Result<T, Status>) -> Result<Response<T>, Status> {
    let value = MetadataValue::try_from(id).ok();
    match outcome {
        Ok(message) => {
            let mut response = Response::new(message);
            if let Some(value) = value {
                response.metadata_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(response)
        }
        Err(mut status) => {
            if let Some(value) = value {
                status.metadata_mut().insert(REQUEST_ID_HEADER, value);
            }
            Err(status)
        }
    }
}

/// The client's request id when it is usable (1 to 128 visible ASCII
/// characters), a new one otherwise.
fn request_id(metadata: &MetadataMap) -> String {
    metadata
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
                && id.bytes().all(|byte| byte.is_ascii_graphic())
        })
        .map_or_else(new_request_id, str::to_string)
}

/// A new request id: 16 hex digits, unique within the process and unpredictable
/// across processes (a per-process random key hashing a counter).
fn new_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEY: OnceLock<RandomState> = OnceLock::new();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}", KEY.get_or_init(RandomState::new).hash_one(count))
}

/// What every scenario of one `RunScenarios` call shares.
struct BatchRun {
    batch: Arc<planner::ScenarioBatch>,
    deadline: Option<Instant>,
    max_solve_time: Duration,
    pool: SolverPool,
}

/// Solves the scenarios of one `RunScenarios` call, handing each result to
/// `results` as it finishes. Scenarios take places in the server's pool like any
/// call but wait for them (`first` is the place the call was admitted with); at
/// most one scenario per worker of this call is in flight (waiting, solving, or
/// solved and waiting for the client to take it), so memory stays bounded however
/// many scenarios there are and however slowly the client reads, and a slow
/// reader holds up only its own call. When the client goes away, spawning stops
/// and the scenarios in flight stop solving.
async fn run_batch(
    run: BatchRun,
    scenarios: Vec<pb::Scenario>,
    first: Admission,
    results: mpsc::Sender<Result<ScenarioResult, Status>>,
) {
    let limit = run.pool.config().workers;
    let in_flight = Arc::new(Semaphore::new(limit));
    let token = CancelToken::new();
    let run = Arc::new(run);
    let mut first = Some(first);
    for (index, scenario) in scenarios.into_iter().enumerate() {
        let permit = tokio::select! {
            permit = Arc::clone(&in_flight).acquire_owned() => permit,
            () = results.closed() => break,
        };
        let Ok(permit) = permit else { break };
        let admission = match first.take() {
            Some(admission) => admission,
            None => {
                let admitted = tokio::select! {
                    admitted = run.pool.admit() => admitted,
                    () = results.closed() => break,
                };
                match admitted {
                    Ok(admission) => admission,
                    Err(error) => {
                        tracing::error!(%error, "no place for the batch's scenarios");
                        break;
                    }
                }
            }
        };
        let (run, token, results) = (Arc::clone(&run), token.clone(), results.clone());
        tokio::spawn(
            async move {
                let id = scenario.id.clone();
                let span = tracing::Span::current();
                let (batch, deadline, max_solve_time) =
                    (Arc::clone(&run.batch), run.deadline, run.max_solve_time);
                let solved = admission
                    .run(move || {
                        span.in_scope(|| {
                            with_cancel(&token, || {
                                let time_limit = tighter(remaining(deadline), Some(max_solve_time));
                                batch.run(index, &scenario, time_limit)
                            })
                        })
                    })
                    .await;
                let result = solved.unwrap_or_else(|error| scenario_failed(&id, &error));
                // A client that went away is no error; the spawning loop stops.
                let _ = results.send(Ok(result)).await;
                drop(permit);
            }
            .in_current_span(),
        );
    }
    // Wait for the scenarios in flight, stopping their solves if the client goes
    // away meanwhile.
    let all = u32::try_from(limit).unwrap_or(u32::MAX);
    tokio::select! {
        _ = in_flight.acquire_many(all) => {}
        () = results.closed() => token.cancel(),
    }
}

/// The result of a scenario whose solver thread failed (panicked), logged with
/// the call's request id.
fn scenario_failed(id: &str, error: &JobError) -> ScenarioResult {
    tracing::error!(scenario = %id, %error, "scenario solve failed; answering INTERNAL");
    crate::convert::scenario_error_to_pb(id, "INTERNAL", error.to_string(), &[])
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
    /// The code is the library's ([`Error::code`]); here only what gRPC adds:
    /// field violations as `BadRequest`, the retry delay as `RetryInfo`, and logs.
    fn from(error: Error) -> Status {
        let code = match error.code() {
            ErrorCode::InvalidArgument => Code::InvalidArgument,
            ErrorCode::ResourceExhausted => Code::ResourceExhausted,
            ErrorCode::FailedPrecondition => Code::FailedPrecondition,
            ErrorCode::DeadlineExceeded => Code::DeadlineExceeded,
            ErrorCode::Internal => Code::Internal,
        };
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
                Status::with_error_details(code, message, details)
            }
            Error::Overloaded(full) => {
                tracing::info!(
                    retry_after_ms = full.retry_after.as_millis(),
                    "at capacity: call refused"
                );
                let mut details = ErrorDetails::new();
                details.set_retry_info(Some(full.retry_after));
                Status::with_error_details(code, full.to_string(), details)
            }
            Error::Solve(crate::solve::SolveError::Unavailable(_)) => {
                Status::new(code, error.to_string())
            }
            Error::Solve(ref solve) => {
                tracing::error!(error = %solve, "solve failed");
                Status::new(code, error.to_string())
            }
            Error::Worker(ref worker) => {
                tracing::error!(error = %worker, "the solver thread failed; answering INTERNAL");
                Status::new(
                    code,
                    format!("{worker}; the server logged it with this call's {REQUEST_ID_HEADER}"),
                )
            }
            Error::Internal(ref message) => {
                tracing::error!(%message, "internal error");
                Status::new(code, message.clone())
            }
            Error::Plan(PlanError::TooLarge { .. }) | Error::DeadlineExceeded => {
                Status::new(code, error.to_string())
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

    #[test]
    fn request_ids_are_honoured_when_usable_and_made_up_otherwise() {
        let generated = |id: &str| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit());
        let mut metadata = MetadataMap::new();
        let first = request_id(&metadata);
        assert!(generated(&first), "{first}");
        assert_ne!(request_id(&metadata), first, "ids are unique");
        metadata.insert(REQUEST_ID_HEADER, "checkout-7f3a".parse().expect("header"));
        assert_eq!(request_id(&metadata), "checkout-7f3a");
        for unusable in ["two words", &"x".repeat(MAX_REQUEST_ID_LEN + 1)] {
            metadata.insert(REQUEST_ID_HEADER, unusable.parse().expect("header"));
            assert!(generated(&request_id(&metadata)), "{unusable:?} was kept");
        }
    }

    #[test]
    fn a_full_pool_is_resource_exhausted_with_a_retry_delay_and_a_panic_internal() {
        let full = crate::pool::Full {
            workers: 2,
            queue: 4,
            retry_after: Duration::from_millis(150),
        };
        let status = Status::from(Error::from(full));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(status.message().contains("at capacity"), "{status:?}");
        assert!(status.message().contains("retry in 150 ms"), "{status:?}");
        let retry = status.get_details_retry_info().expect("RetryInfo");
        assert_eq!(retry.retry_delay, Some(Duration::from_millis(150)));

        let status = Status::from(Error::from(JobError::Panicked(
            "index out of bounds".into(),
        )));
        assert_eq!(status.code(), Code::Internal);
        assert!(
            status.message().contains("panicked: index out of bounds"),
            "{status:?}"
        );
    }
}
