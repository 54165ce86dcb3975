//! A batch on servers: chunks of scenarios streamed through RunScenarios, resent
//! elsewhere when a server goes away.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tonic::Code;

use super::Pending;
use crate::cli::{remote, CliError};
use crate::pb;

/// Concurrent streams per server: one is being answered while the next is sent.
const STREAMS_PER_SERVER: usize = 2;

/// Longest wait between two attempts on a failing server.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// A batch on servers: chunks of scenarios as RunScenarios streams.
pub(super) struct Remote {
    /// The servers' URLs.
    pub(super) servers: Vec<String>,
    /// The base plan every scenario edits.
    pub(super) base: pb::Plan,
    /// The batch's solve options.
    pub(super) options: pb::SolveOptions,
    /// Scenarios per RunScenarios stream.
    pub(super) chunk_size: usize,
    /// How long the run waits without any result before it gives up.
    pub(super) give_up_after: Duration,
    /// The time limit of one solve (zero: none), which a silent stream may take.
    pub(super) solve_limit: Duration,
}

/// What the server workers share.
struct Shared {
    /// Chunks sent and cut short (their unanswered part), sent again first.
    queue: Mutex<VecDeque<Vec<(usize, pb::Scenario)>>>,
    /// The scenarios not yet sent, read from the file a chunk at a time.
    pending: Arc<Pending>,
    /// Scenarios per chunk.
    chunk_size: usize,
    /// Scenarios without a result yet.
    outstanding: AtomicUsize,
    /// When the last result arrived (or the run started).
    last_progress: Mutex<Instant>,
    /// Why the run cannot finish, once it cannot.
    fatal: Mutex<Option<CliError>>,
}

impl Shared {
    fn fatal(&self) -> bool {
        self.fatal.lock().map_or(true, |fatal| fatal.is_some())
    }

    fn fail(&self, error: CliError) {
        if let Ok(mut fatal) = self.fatal.lock() {
            fatal.get_or_insert(error);
        }
    }

    /// The next chunk to send: one cut short before, or the next scenarios read.
    fn next_chunk(&self) -> Option<Vec<(usize, pb::Scenario)>> {
        if let Some(chunk) = self
            .queue
            .lock()
            .ok()
            .and_then(|mut queue| queue.pop_front())
        {
            return Some(chunk);
        }
        let chunk: Vec<_> = std::iter::from_fn(|| self.pending.next())
            .take(self.chunk_size)
            .collect();
        (!chunk.is_empty()).then_some(chunk)
    }

    fn requeue(&self, chunk: Vec<(usize, pb::Scenario)>) {
        if !chunk.is_empty() {
            if let Ok(mut queue) = self.queue.lock() {
                queue.push_front(chunk);
            }
        }
    }
}

impl Remote {
    /// Solves the `outstanding` scenarios `pending` hands out on the servers,
    /// sending each result to `results`.
    pub(super) fn run(
        self,
        pending: Arc<Pending>,
        outstanding: usize,
        results: mpsc::Sender<pb::ScenarioResult>,
    ) -> Result<(), CliError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| CliError::Failed(format!("cannot start the runtime: {error}")))?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            pending,
            chunk_size: self.chunk_size.max(1),
            outstanding: AtomicUsize::new(outstanding),
            last_progress: Mutex::new(Instant::now()),
            fatal: Mutex::new(None),
        });
        let this = Arc::new(self);
        runtime.block_on(async {
            let mut workers = tokio::task::JoinSet::new();
            for url in &this.servers {
                for _ in 0..STREAMS_PER_SERVER {
                    workers.spawn(Arc::clone(&this).worker(
                        url.clone(),
                        Arc::clone(&shared),
                        results.clone(),
                    ));
                }
            }
            while workers.join_next().await.is_some() {}
        });
        let fatal = shared.fatal.lock().ok().and_then(|mut fatal| fatal.take());
        match fatal {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Takes chunks off the queue and streams them through `url` until none is
    /// left, retrying with exponential backoff when the server is unavailable.
    async fn worker(
        self: Arc<Self>,
        url: String,
        shared: Arc<Shared>,
        results: mpsc::Sender<pb::ScenarioResult>,
    ) {
        let mut backoff = Duration::from_millis(100);
        let mut client = None;
        loop {
            if shared.fatal() {
                return;
            }
            let Some(chunk) = shared.next_chunk() else {
                // A read error ends the batch (reported by the caller) rather than
                // waiting for scenarios that will never be read.
                if shared.outstanding.load(Ordering::SeqCst) == 0 || shared.pending.failed() {
                    return;
                }
                // Another worker's chunk may still come back.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let (unanswered, outcome) = self
                .stream_chunk(&url, &mut client, chunk, &shared, &results)
                .await;
            match outcome {
                Ok(()) => {
                    shared.requeue(unanswered);
                    backoff = Duration::from_millis(100);
                }
                Err(Failure::Retry(reason)) => {
                    shared.requeue(unanswered);
                    client = None;
                    let stalled = shared
                        .last_progress
                        .lock()
                        .map_or(Duration::MAX, |last| last.elapsed());
                    if stalled >= self.give_up_after {
                        shared.fail(CliError::Connect {
                            url: url.clone(),
                            reason: format!(
                                "no result for {:.0} s, giving up: {reason}",
                                stalled.as_secs_f64()
                            ),
                        });
                        return;
                    }
                    tracing::warn!(%url, %reason, retry_in = ?backoff, "server unavailable");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(Failure::Fatal(error)) => {
                    shared.requeue(unanswered);
                    shared.fail(error);
                    return;
                }
            }
        }
    }

    /// Sends one chunk as a RunScenarios stream and forwards each result; returns
    /// the scenarios left unanswered and how the stream ended.
    async fn stream_chunk(
        &self,
        url: &str,
        client: &mut Option<remote::Client>,
        chunk: Vec<(usize, pb::Scenario)>,
        shared: &Shared,
        results: &mpsc::Sender<pb::ScenarioResult>,
    ) -> (Vec<(usize, pb::Scenario)>, Result<(), Failure>) {
        let connected = match client {
            Some(client) => client,
            None => match remote::connect(url).await {
                Ok(connected) => client.insert(connected),
                Err(error) => return (chunk, Err(Failure::Retry(error.to_string()))),
            },
        };
        // Where each scenario of the chunk is in the whole batch, by id.
        let mut waiting: HashMap<String, (usize, usize)> = chunk
            .iter()
            .enumerate()
            .map(|(local, (global, scenario))| (scenario.id.clone(), (local, *global)))
            .collect();
        let request = pb::RunScenariosRequest {
            base: Some(self.base.clone()),
            scenarios: chunk.iter().map(|(_, scenario)| scenario.clone()).collect(),
            options: Some(self.options),
        };
        // A server that stops answering without closing the connection (hung, or
        // a network that drops packets) counts as gone.
        let idle = self
            .give_up_after
            .max(self.solve_limit + Duration::from_secs(5));
        let silent =
            || tonic::Status::unavailable(format!("no answer for {:.0} s", idle.as_secs_f64()));
        let outcome = async {
            let mut stream = tokio::time::timeout(idle, connected.run_scenarios(request))
                .await
                .map_err(|_| silent())??
                .into_inner();
            while let Some(mut result) = tokio::time::timeout(idle, stream.message())
                .await
                .map_err(|_| silent())??
            {
                let Some((local, global)) = waiting.remove(&result.scenario_id) else {
                    continue;
                };
                renumber(&mut result, local, global);
                shared.outstanding.fetch_sub(1, Ordering::SeqCst);
                if let Ok(mut last) = shared.last_progress.lock() {
                    *last = Instant::now();
                }
                if results.send(result).await.is_err() {
                    return Ok(false);
                }
            }
            Ok::<bool, tonic::Status>(true)
        }
        .await;
        let unanswered: Vec<_> = chunk
            .into_iter()
            .filter(|(_, scenario)| waiting.contains_key(&scenario.id))
            .collect();
        let outcome = match outcome {
            Ok(true) => Ok(()),
            // The writer stopped (it reports why); so must every worker.
            Ok(false) => Err(Failure::Fatal(CliError::Failed(
                "the results file was closed".into(),
            ))),
            Err(status) => Err(match status.code() {
                // A server at capacity: later, or another server, will take it.
                Code::ResourceExhausted if remote::busy(&status) => {
                    Failure::Retry(format!("busy: {}", status.message()))
                }
                Code::InvalidArgument | Code::ResourceExhausted | Code::Unimplemented => {
                    Failure::Fatal(remote::status_error(url, &status))
                }
                // UNAVAILABLE, and the UNKNOWN or INTERNAL a connection cut
                // mid-stream surfaces as: another attempt may succeed.
                code => Failure::Retry(format!("{code:?}: {}", status.message())),
            }),
        };
        (unanswered, outcome)
    }
}

/// How a chunk's stream failed.
enum Failure {
    /// The server went away or is unavailable: try again later, anywhere.
    Retry(String),
    /// The server refused the batch itself: retrying cannot help.
    Fatal(CliError),
}

/// The server numbers scenarios within the chunk; the batch numbers them within
/// the whole scenario file, as an in-process run does.
fn renumber(result: &mut pb::ScenarioResult, local: usize, global: usize) {
    let from = format!("scenarios[{local}]");
    let to = format!("scenarios[{global}]");
    if let Some(error) = result.error.as_mut() {
        error.message = error.message.replace(&from, &to);
        for violation in &mut error.field_violations {
            if let Some(rest) = violation.field.strip_prefix(&from) {
                violation.field = format!("{to}{rest}");
            }
        }
    }
}
