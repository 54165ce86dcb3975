//! `tradeoff serve`: the gRPC API until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use super::{parse_duration, CliError, ExitStatus, LimitArgs};
use crate::pool::PoolConfig;
use crate::server::{serve_with, shutdown_signal, ServerConfig};

#[derive(Debug, clap::Args)]
pub(super) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051", env = "TRADEOFF_LISTEN")]
    listen: SocketAddr,
    /// How long in-flight calls may finish after a shutdown signal.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// Largest request message accepted, in MiB.
    #[arg(long, default_value_t = 32)]
    max_request_mib: usize,
    /// Solves running at once, one thread each [default: the number of cores].
    #[arg(long, env = "TRADEOFF_WORKERS", value_parser = parse_workers)]
    workers: Option<usize>,
    /// Calls that may wait for a free worker; when every worker is busy and the
    /// queue is full, a call is refused at once with RESOURCE_EXHAUSTED and a
    /// retry delay [default: twice --workers].
    #[arg(long, env = "TRADEOFF_QUEUE")]
    queue: Option<usize>,
    /// Longest any one call may solve, whatever its deadline or time limit (it
    /// then gets a TIME_LIMIT result), so that nothing runs for ever.
    #[arg(long, default_value = "5m", env = "TRADEOFF_MAX_SOLVE_TIME", value_parser = parse_duration)]
    max_solve_time: Duration,
    #[command(flatten)]
    limits: LimitArgs,
}

/// `--workers`: a whole number from 1 to [`crate::pool::MAX_WORKERS`].
fn parse_workers(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(workers) if (1..=crate::pool::MAX_WORKERS).contains(&workers) => Ok(workers),
        _ => Err(format!(
            "`{text}` is not a number of workers from 1 to {}",
            crate::pool::MAX_WORKERS
        )),
    }
}

pub(super) fn run(args: ServeArgs) -> Result<ExitStatus, CliError> {
    install_panic_hook();
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|error| CliError::Failed(format!("cannot start the runtime: {error}")))?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|error| {
                CliError::Failed(format!("cannot listen on {}: {error}", args.listen))
            })?;
        let address = listener.local_addr().map_or(args.listen, |address| address);
        let default = PoolConfig::default();
        let workers = args.workers.unwrap_or(default.workers);
        let pool = PoolConfig {
            workers,
            queue: args.queue.unwrap_or(2 * workers),
        };
        eprintln!(
            "tradeoff {} listening on {address}",
            env!("CARGO_PKG_VERSION")
        );
        eprintln!(
            "solver pool: workers {}, queue {}, at most {:.0} s per call",
            pool.workers,
            pool.queue,
            args.max_solve_time.as_secs_f64()
        );
        let config = ServerConfig {
            limits: args.limits.limits(),
            max_request_bytes: args.max_request_mib.saturating_mul(1024 * 1024),
            drain_timeout: args.drain_timeout,
            pool,
            max_solve_time: args.max_solve_time,
            ..ServerConfig::default()
        };
        serve_with(listener, shutdown_signal(), config)
            .await
            .map_err(|error| CliError::Failed(error.to_string()))?;
        Ok(ExitStatus::Success)
    });
    // Calls still in flight after the drain were dropped, which cancelled their
    // solves; one already inside a long solver call would still hold its thread
    // until its time limit. Dropping the runtime would wait for it: exit instead.
    runtime.shutdown_background();
    served
}

/// Reports panics through the log instead of bare stderr text: one line in the
/// log's format, inside the span of the call that panicked (so with its request
/// id). The server catches solver panics and serves on; this only says where they
/// happened. Logging writes to stderr and ignores write errors, as the default hook
/// does, so reporting a panic cannot fail where the default would not.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = crate::pool::panic_message(info.payload());
        let location = info
            .location()
            .map_or_else(String::new, ToString::to_string);
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            tracing::error!(panic = %message, %location, %backtrace, "a thread panicked");
        } else {
            tracing::error!(panic = %message, %location, "a thread panicked");
        }
    }));
}
