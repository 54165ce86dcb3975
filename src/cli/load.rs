//! `tradeoff load PLAN.json --server URL`: drives a server with concurrent clients
//! for a while and reports throughput, latency and how the calls ended.
//!
//! Each client has its own connection and sends its next `Optimize` call as soon as
//! the last one has answered (a closed loop), each with a deadline. A client
//! refused with RESOURCE_EXHAUSTED waits the retry delay the server gave, as a
//! well-behaved client would, before it tries again.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tonic::metadata::MetadataValue;
use tonic::Code;
use tonic_types::StatusExt;

use super::{parse_duration, print, read_plan, remote, CliError, ExitStatus, Format, SolverArg};
use crate::pb;

/// How often progress goes to stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, clap::Args)]
pub(super) struct LoadArgs {
    /// The plan every call solves (proto3 JSON of tradeoff.v1.Plan).
    plan: String,
    /// The server to drive (e.g. http://127.0.0.1:50051).
    #[arg(long, env = "TRADEOFF_SERVER")]
    server: String,
    /// Concurrent clients, each on its own connection.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    clients: u16,
    /// How long to keep sending calls (10s, 1m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// The deadline of each call (its grpc-timeout).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    deadline: Duration,
    /// The solve time limit of each call (options.time_limit).
    #[arg(long, value_parser = parse_duration)]
    time_limit: Option<Duration>,
    /// Solver engine asked of the server.
    #[arg(long, value_enum, default_value_t = SolverArg::Auto)]
    solver: SolverArg,
    /// Skip shadow prices and the diagnosis in every call.
    #[arg(long)]
    no_explain: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// How one call ended.
struct Sample {
    code: Code,
    latency: Duration,
}

/// Latency percentiles of a set of calls, in milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Latency {
    calls: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// The report `load` prints.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct LoadReport {
    server: String,
    plan: String,
    clients: u16,
    /// Wall-clock time from the first call sent to the last answered.
    seconds: f64,
    calls: usize,
    calls_per_second: f64,
    /// Calls answered OK per second.
    throughput: f64,
    /// Latency of the calls answered OK (absent when none was).
    latency: Option<Latency>,
    /// Calls and their latency by gRPC status code (`OK`, `RESOURCE_EXHAUSTED`, ...).
    codes: BTreeMap<String, Latency>,
}

pub(super) fn run(args: LoadArgs) -> Result<ExitStatus, CliError> {
    let plan = read_plan(&args.plan)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Failed(format!("cannot start the runtime: {error}")))?;
    let report = runtime.block_on(drive(&args, plan))?;
    print(args.format, &report, render)?;
    Ok(if report.codes.contains_key("OK") {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// Runs the clients for `args.duration` and gathers their samples.
async fn drive(args: &LoadArgs, plan: pb::Plan) -> Result<LoadReport, CliError> {
    let plan_name = plan.name.clone();
    // Connections are made before the clock starts: their setup is not load.
    let mut clients = Vec::with_capacity(usize::from(args.clients));
    for _ in 0..args.clients {
        clients.push(remote::connect(&args.server).await?);
    }
    let request = Arc::new(pb::OptimizeRequest {
        plan: Some(plan),
        options: Some(pb::SolveOptions {
            time_limit: args.time_limit.map(pbjson_types::Duration::from),
            solver: args.solver.to_pb(),
            skip_explanations: args.no_explain,
        }),
    });
    eprintln!(
        "loading {} with {} clients for {:.1} s",
        args.server,
        args.clients,
        args.duration.as_secs_f64()
    );
    let started = Instant::now();
    let end = started + args.duration;
    let (calls, ok) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = tokio::task::JoinSet::new();
    for (number, client) in clients.into_iter().enumerate() {
        let counters = (Arc::clone(&calls), Arc::clone(&ok));
        tasks.spawn(client_loop(
            client,
            number,
            Arc::clone(&request),
            args.deadline,
            end,
            counters,
        ));
    }
    let progress = {
        let (calls, ok) = (Arc::clone(&calls), Arc::clone(&ok));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(PROGRESS_EVERY);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                eprintln!(
                    "{:6.1} s: {} calls, {} OK",
                    started.elapsed().as_secs_f64(),
                    calls.load(Ordering::Relaxed),
                    ok.load(Ordering::Relaxed)
                );
            }
        })
    };
    let mut samples = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(client_samples) => samples.extend(client_samples),
            Err(error) => return Err(CliError::Failed(format!("a client failed: {error}"))),
        }
    }
    progress.abort();
    Ok(report(args, plan_name, started.elapsed(), samples))
}

/// One client: calls until `end`, one at a time.
async fn client_loop(
    mut client: remote::Client,
    number: usize,
    request: Arc<pb::OptimizeRequest>,
    deadline: Duration,
    end: Instant,
    (calls, ok): (Arc<AtomicU64>, Arc<AtomicU64>),
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut sequence = 0u64;
    while Instant::now() < end {
        let mut call = tonic::Request::new(pb::OptimizeRequest::clone(&request));
        call.set_timeout(deadline);
        // Named calls can be found in the server's log.
        if let Ok(id) = MetadataValue::try_from(format!("load-{number}-{sequence}")) {
            call.metadata_mut().insert("x-request-id", id);
        }
        sequence += 1;
        let sent = Instant::now();
        let outcome = client.optimize(call).await;
        let latency = sent.elapsed();
        calls.fetch_add(1, Ordering::Relaxed);
        let pause = match &outcome {
            Ok(_) => {
                ok.fetch_add(1, Ordering::Relaxed);
                None
            }
            // Refused: come back when the server said to.
            Err(status) => match status.get_details_retry_info() {
                Some(info) => info.retry_delay,
                // A server that is gone would otherwise be hammered.
                None if status.code() == Code::Unavailable => Some(Duration::from_millis(100)),
                None => None,
            },
        };
        samples.push(Sample {
            code: outcome.map_or_else(|status| status.code(), |_| Code::Ok),
            latency,
        });
        if let Some(pause) = pause {
            tokio::time::sleep(pause.min(end.saturating_duration_since(Instant::now()))).await;
        }
    }
    samples
}

fn report(args: &LoadArgs, plan: String, elapsed: Duration, samples: Vec<Sample>) -> LoadReport {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    let mut by_code: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for sample in &samples {
        by_code
            .entry(code_name(sample.code).to_string())
            .or_default()
            .push(sample.latency);
    }
    let codes: BTreeMap<String, Latency> = by_code
        .into_iter()
        .filter_map(|(code, latencies)| Some((code, latency(latencies)?)))
        .collect();
    let ok = codes.get("OK").cloned();
    LoadReport {
        server: args.server.clone(),
        plan,
        clients: args.clients,
        seconds,
        calls: samples.len(),
        calls_per_second: samples.len() as f64 / seconds,
        throughput: ok.as_ref().map_or(0.0, |ok| ok.calls as f64 / seconds),
        latency: ok,
        codes,
    }
}

/// Nearest-rank percentiles of `latencies` (`None` when empty).
fn latency(mut latencies: Vec<Duration>) -> Option<Latency> {
    latencies.sort_unstable();
    let at = |quantile: f64| {
        let rank = (quantile * latencies.len() as f64).ceil() as usize;
        latencies
            .get(rank.clamp(1, latencies.len()) - 1)
            .map_or(0.0, |latency| latency.as_secs_f64() * 1e3)
    };
    let max = latencies.last()?.as_secs_f64() * 1e3;
    Some(Latency {
        calls: latencies.len(),
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: max,
    })
}

/// The canonical name of a gRPC status code, as the gRPC spec writes it.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The report as a table.
fn render(report: &LoadReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} clients on {} for {:.1} s, plan {:?}",
        report.clients, report.server, report.seconds, report.plan
    );
    let _ = writeln!(
        out,
        "{} calls ({:.1}/s), {:.1} OK/s",
        report.calls, report.calls_per_second, report.throughput
    );
    let _ = writeln!(
        out,
        "{:<20} {:>8} {:>10} {:>10} {:>10}",
        "code", "calls", "p50 ms", "p99 ms", "max ms"
    );
    for (code, latency) in &report.codes {
        let _ = writeln!(
            out,
            "{:<20} {:>8} {:>10.1} {:>10.1} {:>10.1}",
            code, latency.calls, latency.p50_ms, latency.p99_ms, latency.max_ms
        );
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let latencies: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let latency = latency(latencies).expect("some");
        assert_eq!(latency.calls, 100);
        assert!((latency.p50_ms - 50.0).abs() < 1e-9, "{latency:?}");
        assert!((latency.p99_ms - 99.0).abs() < 1e-9, "{latency:?}");
        assert!((latency.max_ms - 100.0).abs() < 1e-9, "{latency:?}");
        let one = super::latency(vec![Duration::from_millis(7)]).expect("some");
        assert!((one.p50_ms - 7.0).abs() < 1e-9 && (one.p99_ms - 7.0).abs() < 1e-9);
        assert_eq!(super::latency(Vec::new()), None);
    }
}
