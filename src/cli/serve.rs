//! `tradeoff serve`: the gRPC API until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use super::{parse_duration, CliError, ExitStatus, LimitArgs};
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
    #[command(flatten)]
    limits: LimitArgs,
}

pub(super) fn run(args: ServeArgs) -> Result<ExitStatus, CliError> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|error| CliError::Failed(format!("cannot start the runtime: {error}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|error| {
                CliError::Failed(format!("cannot listen on {}: {error}", args.listen))
            })?;
        let address = listener.local_addr().map_or(args.listen, |address| address);
        eprintln!(
            "tradeoff {} listening on {address}",
            env!("CARGO_PKG_VERSION")
        );
        let config = ServerConfig {
            limits: args.limits.limits(),
            max_request_bytes: args.max_request_mib.saturating_mul(1024 * 1024),
            drain_timeout: args.drain_timeout,
            ..ServerConfig::default()
        };
        serve_with(listener, shutdown_signal(), config)
            .await
            .map_err(|error| CliError::Failed(error.to_string()))?;
        Ok(ExitStatus::Success)
    })
}
