//! Admission control for solves: a bounded number of solver threads and a bounded
//! queue in front of them, shared by every call a server takes.
//!
//! Solves are CPU-bound and long next to the async work around them, so they run
//! on blocking threads. The pool decides how many run at once (`workers`, by
//! default one per core: more would only slow each of them down) and how many may
//! wait for a worker (`queue`). A call that finds every place taken is refused at
//! once ([`Full`], with an estimate of when to try again) rather than left waiting
//! behind work that may outlast its deadline; so the memory a server holds is
//! bounded by `workers + queue` requests, each bounded by the size limits.
//!
//! A job that panics (microlp can, on ill-conditioned input) is caught on its
//! thread and reported as [`JobError::Panicked`]; the pool goes on serving.
//!
//! The pool knows nothing of gRPC: the service maps [`Full`] to
//! RESOURCE_EXHAUSTED and a panic to INTERNAL.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Solve time assumed before any job has finished, for the retry estimate.
const ASSUMED_JOB_TIME: Duration = Duration::from_millis(100);
/// The retry estimate stays within these bounds: not so short that refused
/// clients hammer the server, not so long that they give up on a server that has
/// only a burst to absorb.
const MIN_RETRY_AFTER: Duration = Duration::from_millis(25);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Most workers a pool takes (more are cut to this): far beyond any machine's
/// cores, and small enough to count in a `u32`.
pub const MAX_WORKERS: usize = 1 << 16;
/// Most places in a pool's queue (more are cut to this).
pub const MAX_QUEUE: usize = 1 << 20;

/// How many solves may run and wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Solves running at once, each on its own thread (1 to [`MAX_WORKERS`]).
    pub workers: usize,
    /// Admitted solves that may wait for a worker (at most [`MAX_QUEUE`]). With 0
    /// a call is admitted only when a worker is free.
    pub queue: usize,
}

impl Default for PoolConfig {
    /// One worker per core, and twice as many places in the queue: a burst of
    /// two solves per core waits rather than being refused, but no call waits
    /// longer than about two solves' time for its turn.
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        PoolConfig {
            workers,
            queue: 2 * workers,
        }
    }
}

/// Code run on a worker thread before each job, inside the panic guard. Tests set
/// it to make a "solver" panic; no request can.
#[doc(hidden)]
#[derive(Clone)]
pub struct BeforeJob(pub Arc<dyn Fn() + Send + Sync>);

impl fmt::Debug for BeforeJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BeforeJob(..)")
    }
}

impl PartialEq for BeforeJob {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The pool was full: every worker busy and every place in the queue taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the server is at capacity ({workers} solves running, {queue} waiting); retry in {} ms",
    retry_after.as_millis()
)]
pub struct Full {
    /// Workers of the pool (all busy).
    pub workers: usize,
    /// Places in its queue (all taken).
    pub queue: usize,
    /// An estimate of when a place may be free: the mean time of recent solves,
    /// times the solves waiting per worker.
    pub retry_after: Duration,
}

/// Why an admitted job produced no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The job panicked; the message is the panic's.
    #[error("the solver panicked: {0}")]
    Panicked(String),
    /// The job's thread was lost without an answer (the runtime shutting down).
    #[error("the solver thread was lost: {0}")]
    Lost(String),
}

/// What the pool is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Workers of the pool.
    pub workers: usize,
    /// Places in its queue.
    pub queue: usize,
    /// Jobs running now (a job keeps its worker until it really ends, even when
    /// its caller stopped waiting for it).
    pub busy: usize,
    /// Admitted jobs waiting for a worker.
    pub waiting: usize,
}

/// A bounded pool of solver threads with a bounded queue. Clones share the pool.
#[derive(Debug, Clone)]
pub struct SolverPool {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: PoolConfig,
    /// One permit per place: `workers + queue`, held from admission to the end.
    places: Arc<Semaphore>,
    /// One permit per worker, held while a job runs.
    workers: Arc<Semaphore>,
    /// Exponentially weighted mean run time of recent jobs, in microseconds (0:
    /// none finished yet).
    mean_micros: AtomicU64,
    before_job: Option<BeforeJob>,
}

/// A place in the pool, taken by [`SolverPool::try_admit`] or
/// [`SolverPool::admit`] and held until the job it runs ends (or until it is
/// dropped unused).
#[derive(Debug)]
pub struct Admission {
    shared: Arc<Shared>,
    place: OwnedSemaphorePermit,
}

impl SolverPool {
    /// A pool with `config.workers` workers (at least 1) and `config.queue`
    /// places to wait.
    pub fn new(config: PoolConfig) -> Self {
        SolverPool::with_before_job(config, None)
    }

    /// [`SolverPool::new`], running `hook` before each job: fault injection for
    /// tests, set by code, never by a request.
    #[doc(hidden)]
    pub fn with_before_job(config: PoolConfig, hook: Option<BeforeJob>) -> Self {
        let workers = config.workers.clamp(1, MAX_WORKERS);
        let queue = config.queue.min(MAX_QUEUE);
        SolverPool {
            shared: Arc::new(Shared {
                config: PoolConfig { workers, queue },
                places: Arc::new(Semaphore::new(workers + queue)),
                workers: Arc::new(Semaphore::new(workers)),
                mean_micros: AtomicU64::new(0),
                before_job: hook,
            }),
        }
    }

    /// The pool's size.
    pub fn config(&self) -> PoolConfig {
        self.shared.config
    }

    /// Takes a place if there is one, or fails at once with [`Full`].
    pub fn try_admit(&self) -> Result<Admission, Full> {
        match Arc::clone(&self.shared.places).try_acquire_owned() {
            Ok(place) => Ok(Admission {
                shared: Arc::clone(&self.shared),
                place,
            }),
            Err(_) => Err(Full {
                workers: self.shared.config.workers,
                queue: self.shared.config.queue,
                retry_after: self.retry_after(),
            }),
        }
    }

    /// Waits for a place (first come, first served): for work already accepted,
    /// such as the later scenarios of a batch, that should wait its turn rather
    /// than fail.
    pub async fn admit(&self) -> Result<Admission, JobError> {
        let place = Arc::clone(&self.shared.places)
            .acquire_owned()
            .await
            .map_err(|_| JobError::Lost("the pool is closed".into()))?;
        Ok(Admission {
            shared: Arc::clone(&self.shared),
            place,
        })
    }

    /// What the pool is doing now.
    pub fn stats(&self) -> PoolStats {
        let PoolConfig { workers, queue } = self.shared.config;
        let busy = workers.saturating_sub(self.shared.workers.available_permits());
        let taken = (workers + queue).saturating_sub(self.shared.places.available_permits());
        PoolStats {
            workers,
            queue,
            busy,
            waiting: taken.saturating_sub(busy),
        }
    }

    /// When a refused caller might find a place: the mean time of recent jobs
    /// times the jobs waiting per worker (at least one job's share).
    fn retry_after(&self) -> Duration {
        let stats = self.stats();
        let mean = match self.shared.mean_micros.load(Ordering::Relaxed) {
            0 => ASSUMED_JOB_TIME,
            micros => Duration::from_micros(micros),
        };
        let ahead = u32::try_from(stats.waiting.max(1)).unwrap_or(u32::MAX);
        let workers = u32::try_from(stats.workers.max(1)).unwrap_or(u32::MAX);
        (mean.saturating_mul(ahead) / workers).clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER)
    }
}

impl Shared {
    /// Folds one job's run time into the mean (weight 1/8: a few recent jobs).
    fn record(&self, elapsed: Duration) {
        let sample = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let _ = self
            .mean_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |mean| {
                Some(if mean == 0 {
                    sample
                } else {
                    mean - mean / 8 + sample / 8
                })
            });
    }
}

impl Admission {
    /// Waits for a worker, then runs `job` on a blocking thread and returns its
    /// value, or [`JobError::Panicked`] if it panicked.
    ///
    /// The place and the worker are released when the job ends, not when this
    /// future is dropped: a caller that stops waiting (its client went away) does
    /// not free a worker that is still computing, so at most `workers` jobs ever
    /// run at once. Dropped while still waiting for a worker, the job never runs.
    pub async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, JobError> {
        let worker = Arc::clone(&self.shared.workers)
            .acquire_owned()
            .await
            .map_err(|_| JobError::Lost("the pool is closed".into()))?;
        let Admission { shared, place } = self;
        let task = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                if let Some(hook) = &shared.before_job {
                    (hook.0)();
                }
                job()
            }));
            shared.record(started.elapsed());
            drop(worker);
            drop(place);
            outcome.map_err(|payload| JobError::Panicked(panic_message(payload.as_ref())))
        });
        task.await
            .map_err(|error| JobError::Lost(error.to_string()))?
    }
}

/// The message of a panic payload (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    fn pool(workers: usize, queue: usize) -> SolverPool {
        SolverPool::new(PoolConfig { workers, queue })
    }

    /// Waits (bounded) until `condition` holds.
    async fn eventually(condition: impl Fn() -> bool) -> bool {
        for _ in 0..200 {
            if condition() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        condition()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_at_once_when_every_worker_and_queue_place_is_taken() {
        let pool = pool(1, 1);
        let release = Arc::new(AtomicBool::new(false));
        let block = |release: Arc<AtomicBool>| {
            move || {
                while !release.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                7
            }
        };
        let running = tokio::spawn(
            pool.try_admit()
                .expect("a free worker")
                .run(block(Arc::clone(&release))),
        );
        assert!(eventually(|| pool.stats().busy == 1).await);
        let waiting = tokio::spawn(
            pool.try_admit()
                .expect("a free queue place")
                .run(block(Arc::clone(&release))),
        );
        assert!(
            eventually(|| pool.stats().waiting == 1).await,
            "{:?}",
            pool.stats()
        );

        let started = Instant::now();
        let full = pool.try_admit().expect_err("no place left");
        assert!(started.elapsed() < Duration::from_millis(50));
        assert_eq!((full.workers, full.queue), (1, 1));
        assert!(full.retry_after >= MIN_RETRY_AFTER, "{full:?}");
        assert!(full.to_string().contains("retry in"), "{full}");

        release.store(true, Ordering::Relaxed);
        assert_eq!(running.await.expect("join"), Ok(7));
        assert_eq!(waiting.await.expect("join"), Ok(7));
        assert!(eventually(|| pool.stats().busy == 0 && pool.stats().waiting == 0).await);
        assert!(pool.try_admit().is_ok(), "places are given back");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_is_an_error_and_the_worker_serves_on() {
        let pool = pool(1, 0);
        let outcome = pool
            .try_admit()
            .expect("free")
            .run(|| -> u32 { panic!("ill-conditioned basis") })
            .await;
        assert_eq!(
            outcome,
            Err(JobError::Panicked("ill-conditioned basis".into()))
        );
        let outcome = pool.try_admit().expect("free again").run(|| 1 + 1).await;
        assert_eq!(outcome, Ok(2));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_caller_keeps_its_worker_until_the_job_really_ends() {
        let pool = pool(1, 0);
        let release = Arc::new(AtomicBool::new(false));
        let ended = Arc::new(AtomicBool::new(false));
        let job = {
            let (release, ended) = (Arc::clone(&release), Arc::clone(&ended));
            move || {
                while !release.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                ended.store(true, Ordering::Relaxed);
            }
        };
        let caller = tokio::spawn(pool.try_admit().expect("free").run(job));
        assert!(eventually(|| pool.stats().busy == 1).await);
        caller.abort();
        let _ = caller.await;
        // The caller is gone but the job still runs: no second job may start.
        assert!(pool.try_admit().is_err(), "{:?}", pool.stats());
        release.store(true, Ordering::Relaxed);
        assert!(eventually(|| pool.stats().busy == 0).await);
        assert!(ended.load(Ordering::Relaxed));
        assert!(pool.try_admit().is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_dropped_while_waiting_never_runs() {
        let pool = pool(1, 1);
        let release = Arc::new(AtomicBool::new(false));
        let blocker = {
            let release = Arc::clone(&release);
            move || {
                while !release.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        };
        let running = tokio::spawn(pool.try_admit().expect("free").run(blocker));
        assert!(eventually(|| pool.stats().busy == 1).await);
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&ran);
        let queued = tokio::spawn(pool.try_admit().expect("queue place").run(move || {
            counted.fetch_add(1, Ordering::Relaxed);
        }));
        assert!(eventually(|| pool.stats().waiting == 1).await);
        queued.abort();
        let _ = queued.await;
        assert_eq!(
            pool.stats().waiting,
            0,
            "the abandoned job gave its place back"
        );
        release.store(true, Ordering::Relaxed);
        running.await.expect("join").expect("ran");
        assert!(eventually(|| pool.stats().busy == 0).await);
        assert_eq!(ran.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_hook_runs_before_each_job_inside_the_panic_guard() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let hook = BeforeJob(Arc::new(move || {
            if counted.fetch_add(1, Ordering::Relaxed) == 0 {
                panic!("injected");
            }
        }));
        let pool = SolverPool::with_before_job(
            PoolConfig {
                workers: 1,
                queue: 0,
            },
            Some(hook),
        );
        let first = pool.try_admit().expect("free").run(|| 1).await;
        assert_eq!(first, Err(JobError::Panicked("injected".into())));
        let second = pool.try_admit().expect("free").run(|| 2).await;
        assert_eq!(second, Ok(2));
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn the_retry_estimate_follows_recent_job_times() {
        let pool = pool(2, 4);
        assert_eq!(pool.retry_after(), ASSUMED_JOB_TIME / 2);
        for _ in 0..64 {
            pool.shared.record(Duration::from_secs(1));
        }
        let estimate = pool.retry_after();
        assert!(
            estimate > Duration::from_millis(400) && estimate <= Duration::from_millis(500),
            "{estimate:?}"
        );
    }
}
