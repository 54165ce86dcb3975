//! Admission control, deadlines, cancellation, panics and request ids.

use super::*;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tradeoff::pool::{BeforeJob, PoolConfig};

/// The tests below measure wall-clock time on a small machine: they run one at a
/// time, so that one's solver threads do not slow another's down.
static TIMED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server configuration with `workers` solver threads and `queue` places to wait.
fn pool_of(workers: usize, queue: usize) -> ServerConfig {
    ServerConfig {
        pool: PoolConfig { workers, queue },
        ..ServerConfig::default()
    }
}

/// The benches' synthetic plan (`benches/common`), with `drivers` drivers over four
/// quarters: two segments each, ramps, recurring costs, a budget cap, a margin
/// floor, a share cap and a link. It solves in tens of milliseconds for tens of
/// drivers in a debug build, and its explanations take their whole budget (at
/// least 2 s): break-even scales re-solve it per driver.
use super::bench_plans::synthetic_plan;

/// Whether the server's health service says the planner is SERVING, within 1 s.
async fn serving(health: &mut HealthClient<Channel>) -> bool {
    let check = health.check(HealthCheckRequest {
        service: "tradeoff.v1.PlannerService".into(),
    });
    matches!(
        tokio::time::timeout(Duration::from_secs(1), check).await,
        Ok(Ok(answer)) if answer.get_ref().status == ServingStatus::Serving as i32
    )
}

/// The request id a reply carries in its metadata.
fn reply_id(metadata: &tonic::metadata::MetadataMap) -> String {
    metadata
        .get("x-request-id")
        .expect("the reply carries x-request-id")
        .to_str()
        .expect("ASCII")
        .to_string()
}

/// Tries a small call until the single worker of a `pool_of(1, 0)` server takes
/// it (a free worker), for at most `within`; returns how long that took.
async fn admitted_within(server: &mut TestServer, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let mut probe = request(worked_example(0.2, None));
        probe.options = Some(skip_explanations());
        match server.client.optimize(probe).await {
            Ok(_) => return started.elapsed(),
            Err(status)
                if status.code() == Code::ResourceExhausted && started.elapsed() < within =>
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(status) => panic!("no free worker after {:?}: {status:?}", started.elapsed()),
        }
    }
}

/// How one call of the overload test ended.
struct Ended {
    code: Code,
    latency: Duration,
    retry_delay: Option<Duration>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overload_answers_ok_or_resource_exhausted_at_once_and_health_stays_serving() {
    let _timed = TIMED.lock().await;
    // Capacity: one solve running and two waiting. Twice that many clients, each
    // sending its next call as soon as the last one answered (after the retry delay
    // when refused), keep it overloaded for two seconds.
    const WORKERS: usize = 1;
    const QUEUE: usize = 2;
    let clients = 2 * (WORKERS + QUEUE);
    let deadline = Duration::from_secs(3);
    let run_for = Duration::from_secs(2);
    let server = start_with(pool_of(WORKERS, QUEUE)).await;
    // About 25 ms per solve here (debug build): a queue of two waits ~50 ms.
    let mut call = request(synthetic_plan(60));
    call.options = Some(skip_explanations());
    let started = Instant::now();

    let mut health = HealthClient::new(server.channel().await);
    let checker = tokio::spawn(async move {
        let mut checks = Vec::new();
        while started.elapsed() < run_for {
            checks.push(serving(&mut health).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        checks
    });
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let mut client = PlannerServiceClient::new(server.channel().await);
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut ended = Vec::new();
            while started.elapsed() < run_for {
                let mut request = Request::new(call.clone());
                request.set_timeout(deadline);
                let sent = Instant::now();
                let outcome = client.optimize(request).await;
                let latency = sent.elapsed();
                let (code, retry_delay) = match &outcome {
                    Ok(_) => (Code::Ok, None),
                    Err(status) => (
                        status.code(),
                        status
                            .get_details_retry_info()
                            .and_then(|info| info.retry_delay),
                    ),
                };
                ended.push(Ended {
                    code,
                    latency,
                    retry_delay,
                });
                if let Some(delay) = retry_delay {
                    tokio::time::sleep(delay).await;
                }
            }
            ended
        }));
    }
    let mut ended = Vec::new();
    for task in tasks {
        ended.extend(task.await.expect("client task"));
    }
    let checks = checker.await.expect("health task");

    let others: Vec<Code> = ended
        .iter()
        .map(|ended| ended.code)
        .filter(|code| !matches!(code, Code::Ok | Code::ResourceExhausted))
        .collect();
    assert!(others.is_empty(), "calls ended with {others:?}");
    let slowest = ended
        .iter()
        .map(|ended| ended.latency)
        .max()
        .expect("calls");
    assert!(
        slowest <= deadline + Duration::from_millis(250),
        "a call took {slowest:?}, past its deadline"
    );
    let ok = ended.iter().filter(|ended| ended.code == Code::Ok).count();
    let mut refused: Vec<&Ended> = ended
        .iter()
        .filter(|ended| ended.code == Code::ResourceExhausted)
        .collect();
    assert!(ok > 0, "no call was solved");
    assert!(!refused.is_empty(), "twice the capacity was never refused");
    // Refused at once, not after waiting: a refusal costs no solve.
    refused.sort_by_key(|ended| ended.latency);
    let median = refused[refused.len() / 2].latency;
    let worst = refused[refused.len() - 1].latency;
    assert!(
        median < Duration::from_millis(50),
        "median refusal took {median:?}"
    );
    assert!(worst < Duration::from_secs(1), "a refusal took {worst:?}");
    assert!(
        refused.iter().all(|ended| ended
            .retry_delay
            .is_some_and(|delay| delay > Duration::ZERO)),
        "every refusal says when to retry"
    );
    // Health answered SERVING within a second every time it was asked.
    assert!(checks.len() >= 10, "only {} health checks", checks.len());
    assert!(
        checks.iter().all(|&serving| serving),
        "health checks: {checks:?}"
    );
    eprintln!(
        "overload: {} calls, {ok} OK, {} refused (median {median:?})",
        ended.len(),
        refused.len()
    );
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100ms_deadline_answers_deadline_exceeded_within_250ms_and_the_solver_ends() {
    let _timed = TIMED.lock().await;
    // One worker and no queue: a call is admitted only while no solver runs.
    let mut server = start_with(pool_of(1, 0)).await;

    // The plan takes seconds: given 1 s (as its time limit, no deadline), it is
    // still unsolved. (By hand, in-process: microlp does not finish it in 20 s.)
    let mut limited = request(slow_plan());
    limited.options = Some(pb::SolveOptions {
        time_limit: Some(pbjson_types::Duration {
            seconds: 1,
            nanos: 0,
        }),
        // microlp: the engine this plan is slow on (HiGHS may be compiled in).
        solver: pb::Solver::Microlp as i32,
        skip_explanations: true,
    });
    let started = Instant::now();
    let result = server
        .client
        .optimize(limited)
        .await
        .expect("a time limit is a result")
        .into_inner()
        .result
        .expect("result");
    assert_eq!(status(&result), pb::SolveStatus::TimeLimit, "{result:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));

    let mut call = Request::new(slow_request());
    call.set_timeout(Duration::from_millis(100));
    let started = Instant::now();
    let status = server
        .client
        .optimize(call)
        .await
        .expect_err("the deadline passes before the solve ends");
    let elapsed = started.elapsed();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        elapsed < Duration::from_millis(250),
        "DEADLINE_EXCEEDED after {elapsed:?}"
    );
    // The solver thread itself stopped: the only worker takes a new call at
    // once (were it still solving, every call would be refused for seconds).
    let freed = admitted_within(&mut server, Duration::from_secs(2)).await;
    assert!(
        freed < Duration::from_millis(250),
        "worker busy for {freed:?} more"
    );
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_stops_its_solve() {
    let _timed = TIMED.lock().await;
    let mut server = start_with(pool_of(1, 0)).await;
    // No deadline, no time limit: the solve itself takes ~15 ms, its explanations
    // their whole budget of 2 s (a re-solve per driver and bisection step).
    let call = request(synthetic_plan(30));
    let mut client = server.client.clone();
    let abandoned = tokio::spawn(async move { client.optimize(call).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The client goes away: its HTTP/2 stream is reset, the call's future dropped.
    abandoned.abort();
    let _ = abandoned.await;
    // The solves stop at their next check, well before the explanation budget
    // (another 1.7 s) would have run out.
    let freed = admitted_within(&mut server, Duration::from_secs(3)).await;
    assert!(
        freed < Duration::from_millis(700),
        "the abandoned solve kept the worker for {freed:?}"
    );
    server.stop().await.expect("clean shutdown");
}

/// Everything logged in this test binary (INFO and above), for tests that check
/// what the server logged.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    Arc::clone(LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Capture {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                if let Ok(mut logs) = self.0.lock() {
                    logs.extend_from_slice(bytes);
                }
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let writer = Arc::clone(&logs);
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || Capture(Arc::clone(&writer)))
            .try_init();
        logs
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_solver_panic_answers_internal_is_logged_with_the_request_id_and_serving_goes_on() {
    let logs = captured_logs();
    // Panics to inject: the hook runs on the solver thread before each solve.
    let panics = Arc::new(AtomicUsize::new(0));
    let hook = {
        let panics = Arc::clone(&panics);
        BeforeJob(Arc::new(move || {
            if panics
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok()
            {
                panic!("injected solver panic");
            }
        }))
    };
    let mut server = start_with(ServerConfig {
        before_solve: Some(hook),
        ..pool_of(1, 0)
    })
    .await;

    panics.store(1, Ordering::SeqCst);
    let mut call = Request::new(request(worked_example(0.2, None)));
    call.metadata_mut()
        .insert("x-request-id", "panic-test-42".parse().expect("ascii"));
    let failed = server
        .client
        .optimize(call)
        .await
        .expect_err("the solver panicked");
    assert_eq!(failed.code(), Code::Internal, "{failed:?}");
    assert!(failed.message().contains("panicked"), "{failed:?}");
    assert_eq!(reply_id(failed.metadata()), "panic-test-42");
    let logged = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    assert!(
        logged
            .lines()
            .any(|line| line.contains("panic-test-42") && line.contains("injected solver panic")),
        "no log line names the request and the panic:\n{logged}"
    );

    // The same (only) worker serves the next call.
    let result = optimize(&mut server, worked_example(0.2, None)).await;
    assert_eq!(status(&result), pb::SolveStatus::Optimal, "{result:?}");

    // In a batch the panic fails its scenario alone (one worker: scenarios run in
    // order, and the first one panics).
    panics.store(1, Ordering::SeqCst);
    let results = run_scenarios(
        &mut server,
        pb::RunScenariosRequest {
            base: Some(worked_example(0.2, None)),
            scenarios: vec![
                scenario("first", Default::default()),
                scenario("second", Default::default()),
            ],
            options: None,
        },
    )
    .await
    .expect("the batch streams");
    let error = results["first"].error.as_ref().expect("the first failed");
    assert_eq!(error.code, "INTERNAL", "{error:?}");
    assert_eq!(results["second"].error, None);
    assert_eq!(results["second"].status, pb::SolveStatus::Optimal as i32);

    let mut health = HealthClient::new(server.channel().await);
    assert!(serving(&mut health).await);
    drop(health);
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_generated_on_every_reply() {
    let mut server = start().await;
    let call = |id: Option<&str>, plan: Option<pb::Plan>| {
        let mut call = Request::new(pb::OptimizeRequest {
            plan,
            options: Some(skip_explanations()),
        });
        if let Some(id) = id {
            call.metadata_mut()
                .insert("x-request-id", id.parse().expect("ascii"));
        }
        call
    };
    let is_generated = |id: &str| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit());

    // The client's id comes back, on a result and on an error alike.
    let response = server
        .client
        .optimize(call(Some("client-7"), Some(worked_example(0.2, None))))
        .await
        .expect("solved");
    assert_eq!(reply_id(response.metadata()), "client-7");
    let status = server
        .client
        .optimize(call(Some("client-8"), None))
        .await
        .expect_err("no plan");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(reply_id(status.metadata()), "client-8");

    // Without one (or with one too long to log), the server makes one up.
    let first = server
        .client
        .optimize(call(None, Some(worked_example(0.2, None))))
        .await
        .expect("solved");
    let second = server
        .client
        .optimize(call(
            Some(&"x".repeat(200)),
            Some(worked_example(0.2, None)),
        ))
        .await
        .expect("solved");
    let (first, second) = (reply_id(first.metadata()), reply_id(second.metadata()));
    assert!(is_generated(&first), "{first}");
    assert!(is_generated(&second), "{second}");
    assert_ne!(first, second);

    // A stream's reply carries it too.
    let mut batch = Request::new(pb::RunScenariosRequest {
        base: Some(worked_example(0.2, None)),
        scenarios: vec![scenario("s", Default::default())],
        options: None,
    });
    batch
        .metadata_mut()
        .insert("x-request-id", "batch-1".parse().expect("ascii"));
    let response = server.client.run_scenarios(batch).await.expect("stream");
    assert_eq!(reply_id(response.metadata()), "batch-1");
    drop(response);
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_cannot_start_is_refused_and_one_that_started_waits_its_turn() {
    let _timed = TIMED.lock().await;
    let mut server = start_with(pool_of(1, 0)).await;
    // Keep the only worker busy with a slow solve (1 s time limit).
    let mut slow = request(slow_plan());
    slow.options = Some(pb::SolveOptions {
        time_limit: Some(pbjson_types::Duration {
            seconds: 1,
            nanos: 0,
        }),
        // microlp: the engine this plan is slow on (HiGHS may be compiled in).
        solver: pb::Solver::Microlp as i32,
        skip_explanations: true,
    });
    let mut client = server.client.clone();
    let busy = tokio::spawn(async move { client.optimize(slow).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let batch = || pb::RunScenariosRequest {
        base: Some(worked_example(0.2, None)),
        scenarios: (0..4)
            .map(|i| scenario(&format!("s{i}"), Default::default()))
            .collect(),
        options: None,
    };
    let status = run_scenarios(&mut server, batch())
        .await
        .expect_err("no place for the batch");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.get_details_retry_info().is_some(), "{status:?}");
    busy.await.expect("join").expect("a time limit is a result");

    // With the worker free, the batch starts; its four scenarios share the one
    // worker by waiting, and none is refused.
    let results = run_scenarios(&mut server, batch()).await.expect("stream");
    assert_eq!(results.len(), 4);
    assert!(
        results.values().all(|result| result.error.is_none()),
        "{results:?}"
    );
    server.stop().await.expect("clean shutdown");
}
