//! `tradeoff batch --plan BASE.json SCENARIOS --out RESULTS`: many variants of one
//! plan, in-process on a pool of threads or streamed through one or more servers,
//! each result appended to the output (and synced) as it arrives so that a killed
//! run loses nothing and `--resume` picks up where it stopped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use tonic::Code;

use super::scenarios::{self, FileFormat};
use super::{parse_duration, read_plan, remote, CliError, ExitStatus, LimitArgs, SolverArg};
use crate::pb;
use crate::planner;

/// Header of a CSV results file.
const CSV_HEADER: &str = "scenario_id,status,revenue,spend,contribution,margin,error\n";

/// Concurrent streams per server: one is being answered while the next is sent.
const STREAMS_PER_SERVER: usize = 2;

/// Results solved but not yet written. Bounded, so that solvers and servers wait
/// for the disk (through gRPC flow control) instead of piling results up in memory,
/// and so that little is lost to a kill beyond what is in flight.
const RESULTS_IN_FLIGHT: usize = 64;

/// Longest wait between two attempts on a failing server.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Debug, clap::Args)]
pub(super) struct BatchArgs {
    /// The base plan (proto3 JSON of tradeoff.v1.Plan) every scenario starts from.
    #[arg(long)]
    plan: String,
    /// The scenarios: .jsonl (one tradeoff.v1.Scenario in proto3 JSON per line) or
    /// .csv (one row per scenario; see below).
    scenarios: PathBuf,
    /// Where results go, one line per scenario as it finishes: .jsonl (a
    /// ScenarioResult per line) or .csv (columns scenario_id, status, revenue,
    /// spend, contribution, margin, error).
    #[arg(long)]
    out: PathBuf,
    /// Solve on these servers (comma-separated URLs) instead of in-process; each
    /// takes the next chunk of scenarios as it finishes one.
    #[arg(long, env = "TRADEOFF_SERVER", value_delimiter = ',')]
    server: Vec<String>,
    /// In-process worker threads (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Continue a run: skip scenarios whose id is already in --out. Without it an
    /// existing, non-empty --out is refused (so no scenario is written twice).
    #[arg(long)]
    resume: bool,
    /// Wall-clock budget for each scenario's solve (30s, 500ms).
    #[arg(long, value_parser = parse_duration)]
    time_limit: Option<Duration>,
    /// Solver engine: auto picks HiGHS for large or integer plans when this build
    /// (or the server) has it.
    #[arg(long, value_enum, default_value_t = SolverArg::Auto)]
    solver: SolverArg,
    /// Scenarios per RunScenarios call on a server.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    chunk_size: u32,
    /// Give up on the servers after this long without a single result (a stream
    /// silent this long is also abandoned and its scenarios sent again).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    give_up_after: Duration,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(super) fn run(args: BatchArgs) -> Result<ExitStatus, CliError> {
    let started = Instant::now();
    let out_format = FileFormat::of(&args.out)?;
    let base = read_plan(&args.plan)?;
    let scenarios = scenarios::read(&args.scenarios)?;
    let options = pb::SolveOptions {
        time_limit: args.time_limit.map(pbjson_types::Duration::from),
        solver: args.solver.to_pb(),
        skip_explanations: true,
    };
    // The base is checked here in both modes, so that a broken base is bad input
    // before any output is written.
    let batch = planner::scenario_batch(Some(&base), Some(&options), &args.limits.limits())?;

    let done = previous_ids(&args.out, out_format, args.resume)?;
    let total = scenarios.len();
    let pending: Vec<(usize, pb::Scenario)> = scenarios
        .into_iter()
        .enumerate()
        .filter(|(_, scenario)| !done.contains(&scenario.id))
        .collect();
    let skipped = total - pending.len();
    let mut output = Output::open(&args.out, out_format)?;
    let mut progress = Progress::new(pending.len(), skipped);

    let (sender, mut results) = mpsc::channel::<pb::ScenarioResult>(RESULTS_IN_FLIGHT);
    let outcome = std::thread::scope(|scope| {
        let worker = if args.server.is_empty() {
            let jobs = args
                .jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
                .max(1);
            let batch = &batch;
            let pending = &pending;
            scope.spawn(move || {
                batch.run_on_threads(pending, jobs, |result| sender.blocking_send(result).is_ok());
                Ok(())
            })
        } else {
            let remote = Remote {
                servers: args.server.clone(),
                base,
                options,
                chunk_size: args.chunk_size as usize,
                give_up_after: args.give_up_after,
                solve_limit: args.time_limit.unwrap_or_default(),
            };
            let pending = pending.clone();
            scope.spawn(move || remote.run(pending, sender))
        };
        // An early return drops the receiver, which stops the workers.
        while let Some(result) = results.blocking_recv() {
            output.write(&result)?;
            progress.record(&result);
        }
        worker
            .join()
            .unwrap_or_else(|_| Err(CliError::Failed("a batch worker panicked".into())))
    });
    let summary = progress.summary(started.elapsed());
    eprintln!("{summary}");
    outcome?;
    Ok(if progress.failed > 0 || progress.done < pending.len() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// Ids already answered in an earlier run's output. Refuses an existing non-empty
/// output without `--resume`; with it, cuts a last line a killed run left half
/// written, so that the file stays one whole result per line.
fn previous_ids(
    path: &Path,
    format: FileFormat,
    resume: bool,
) -> Result<HashSet<String>, CliError> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(source) => {
            return Err(CliError::Read {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let read_error = |source| CliError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(read_error)?;
    if text.is_empty() {
        return Ok(HashSet::new());
    }
    if !resume {
        return Err(CliError::Usage(format!(
            "{} already has results; pass --resume to continue that run, or choose \
             another --out",
            path.display()
        )));
    }
    let whole = text.rfind('\n').map_or(0, |end| end + 1);
    if whole < text.len() {
        tracing::warn!(path = %path.display(), "dropping a half-written last line");
        file.set_len(whole as u64).map_err(read_error)?;
        file.seek(SeekFrom::End(0)).map_err(read_error)?;
        text.truncate(whole);
    }
    let mut ids = HashSet::new();
    match format {
        FileFormat::Jsonl => {
            for line in text.lines().filter(|line| !line.trim().is_empty()) {
                let result: pb::ScenarioResult = serde_json::from_str(line).map_err(|error| {
                    CliError::Usage(format!("{} is not a results file: {error}", path.display()))
                })?;
                ids.insert(result.scenario_id);
            }
        }
        FileFormat::Csv => {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            for record in reader.records() {
                let record = record.map_err(|error| {
                    CliError::Usage(format!("{} is not a results file: {error}", path.display()))
                })?;
                if let Some(id) = record.get(0) {
                    ids.insert(id.to_string());
                }
            }
        }
    }
    Ok(ids)
}

/// The results file, appended one synced line at a time.
struct Output {
    file: File,
    format: FileFormat,
    path: PathBuf,
}

impl Output {
    fn open(path: &Path, format: FileFormat) -> Result<Output, CliError> {
        let fail = |error: std::io::Error| {
            CliError::Failed(format!("cannot write {}: {error}", path.display()))
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(fail)?;
        if format == FileFormat::Csv && file.metadata().map_err(fail)?.len() == 0 {
            file.write_all(CSV_HEADER.as_bytes()).map_err(fail)?;
            file.sync_data().map_err(fail)?;
        }
        Ok(Output {
            file,
            format,
            path: path.to_path_buf(),
        })
    }

    /// Appends one result and syncs it to disk, so that it survives a kill.
    fn write(&mut self, result: &pb::ScenarioResult) -> Result<(), CliError> {
        let line = match self.format {
            FileFormat::Jsonl => {
                let mut line = serde_json::to_string(result).map_err(|error| {
                    CliError::Failed(format!("cannot encode a result: {error}"))
                })?;
                line.push('\n');
                line
            }
            FileFormat::Csv => csv_line(result)?,
        };
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|error| {
                CliError::Failed(format!("cannot write {}: {error}", self.path.display()))
            })
    }
}

/// One CSV row: money columns empty without a plan, error as `CODE: message`.
fn csv_line(result: &pb::ScenarioResult) -> Result<String, CliError> {
    let status = status_name(result);
    let totals = result.totals.clone().unwrap_or_default();
    let solved = matches!(
        pb::SolveStatus::try_from(result.status),
        Ok(pb::SolveStatus::Optimal | pb::SolveStatus::TimeLimit)
    ) && result.error.is_none();
    let money = |value: f64| {
        if solved {
            value.to_string()
        } else {
            String::new()
        }
    };
    let error = result
        .error
        .as_ref()
        .map(|error| format!("{}: {}", error.code, error.message))
        .unwrap_or_default();
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer
        .write_record([
            result.scenario_id.clone(),
            status,
            money(totals.revenue),
            money(totals.spend),
            money(totals.contribution),
            money(totals.margin),
            error,
        ])
        .map_err(|error| CliError::Failed(format!("cannot encode a result: {error}")))?;
    let bytes = writer
        .into_inner()
        .map_err(|error| CliError::Failed(format!("cannot encode a result: {error}")))?;
    String::from_utf8(bytes)
        .map_err(|error| CliError::Failed(format!("cannot encode a result: {error}")))
}

/// `OPTIMAL`, `INFEASIBLE`, …, or `ERROR` for a scenario that could not be solved.
fn status_name(result: &pb::ScenarioResult) -> String {
    if result.error.is_some() {
        return "ERROR".into();
    }
    pb::SolveStatus::try_from(result.status).map_or("ERROR".into(), |status| {
        status
            .as_str_name()
            .trim_start_matches("SOLVE_STATUS_")
            .to_string()
    })
}

/// Counts and progress on stderr: a progress bar on a terminal, plain lines
/// every 5 % or every 2 s otherwise (logs, CI).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    skipped: usize,
    done: usize,
    failed: usize,
    infeasible: usize,
    started: Instant,
    last_line: Instant,
    last_step: usize,
}

impl Progress {
    fn new(total: usize, skipped: usize) -> Progress {
        if skipped > 0 {
            eprintln!("batch: {skipped} scenario(s) already done, {total} to go");
        }
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} scenarios, {per_sec}, eta {eta} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            total,
            skipped,
            done: 0,
            failed: 0,
            infeasible: 0,
            started: now,
            last_line: now,
            last_step: 0,
        }
    }

    fn record(&mut self, result: &pb::ScenarioResult) {
        self.done += 1;
        if result.error.is_some() {
            self.failed += 1;
        } else if result.status == pb::SolveStatus::Infeasible as i32 {
            self.infeasible += 1;
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if result.error.is_some() {
                bar.set_message(format!("({} failed)", self.failed));
            }
            return;
        }
        let step = self.done * 20 / self.total.max(1);
        if step > self.last_step || self.last_line.elapsed() >= Duration::from_secs(2) {
            self.last_step = step;
            self.last_line = Instant::now();
            let elapsed = self.started.elapsed().as_secs_f64();
            eprintln!(
                "batch: {}/{} done ({} failed), {:.1}/s",
                self.done,
                self.total,
                self.failed,
                self.done as f64 / elapsed.max(1e-9)
            );
        }
    }

    /// Clears the bar and says how the run went.
    fn summary(&self, elapsed: Duration) -> String {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let seconds = elapsed.as_secs_f64();
        format!(
            "batch: {} of {} scenario(s) done in {seconds:.1} s ({:.1}/s): {} failed, {} \
             infeasible{}",
            self.done,
            self.total,
            self.done as f64 / seconds.max(1e-9),
            self.failed,
            self.infeasible,
            if self.skipped > 0 {
                format!("; {} skipped (already in the output)", self.skipped)
            } else {
                String::new()
            }
        )
    }
}

/// A batch on servers: chunks of scenarios as RunScenarios streams.
struct Remote {
    servers: Vec<String>,
    base: pb::Plan,
    options: pb::SolveOptions,
    chunk_size: usize,
    give_up_after: Duration,
    /// The time limit of one solve (zero: none), which a silent stream may take.
    solve_limit: Duration,
}

/// What the server workers share.
struct Shared {
    /// Chunks not yet sent, or sent and cut short (their unanswered part).
    queue: Mutex<VecDeque<Vec<(usize, pb::Scenario)>>>,
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

    fn requeue(&self, chunk: Vec<(usize, pb::Scenario)>) {
        if !chunk.is_empty() {
            if let Ok(mut queue) = self.queue.lock() {
                queue.push_front(chunk);
            }
        }
    }
}

impl Remote {
    fn run(
        self,
        pending: Vec<(usize, pb::Scenario)>,
        results: mpsc::Sender<pb::ScenarioResult>,
    ) -> Result<(), CliError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| CliError::Failed(format!("cannot start the runtime: {error}")))?;
        let outstanding = pending.len();
        let mut queue = VecDeque::new();
        let mut pending = pending.into_iter().peekable();
        while pending.peek().is_some() {
            queue.push_back(pending.by_ref().take(self.chunk_size).collect());
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue),
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
            let chunk = shared
                .queue
                .lock()
                .ok()
                .and_then(|mut queue| queue.pop_front());
            let Some(chunk) = chunk else {
                if shared.outstanding.load(Ordering::SeqCst) == 0 {
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
