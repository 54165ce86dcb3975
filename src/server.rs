//! Serving the planner: health, reflection, message limits, request tracing and a
//! graceful shutdown with a bounded drain.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

use crate::convert::Limits;
use crate::pb::{self, planner_service_server::PlannerServiceServer};
use crate::service::Planner;

/// How a server runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerConfig {
    /// Plan size limits, refused with RESOURCE_EXHAUSTED above them.
    pub limits: Limits,
    /// Largest request message accepted, in bytes.
    pub max_request_bytes: usize,
    /// Largest response message sent, in bytes.
    pub max_response_bytes: usize,
    /// How long in-flight calls may finish after shutdown begins.
    pub drain_timeout: Duration,
    /// Most scenarios in one `RunScenarios` call (more: RESOURCE_EXHAUSTED).
    pub max_scenarios: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            max_request_bytes: 32 * 1024 * 1024,
            max_response_bytes: 64 * 1024 * 1024,
            drain_timeout: Duration::from_secs(10),
            max_scenarios: crate::service::DEFAULT_MAX_SCENARIOS,
        }
    }
}

/// Why the server stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The transport failed.
    #[error("server transport failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Reflection could not load the API descriptors.
    #[error("reflection setup failed: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// Serves `tradeoff.v1.PlannerService` (plus grpc.health.v1 and reflection) on
/// `listener` until `shutdown` completes, with default configuration. Tests pass a
/// listener bound to port 0.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    serve_with(listener, shutdown, ServerConfig::default()).await
}

/// [`serve`] with explicit configuration.
pub async fn serve_with(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    config: ServerConfig,
) -> Result<(), ServerError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<PlannerServiceServer<Planner>>().await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let planner = PlannerServiceServer::new(
        Planner::new(config.limits).with_max_scenarios(config.max_scenarios),
    )
    .max_decoding_message_size(config.max_request_bytes)
    .max_encoding_message_size(config.max_response_bytes);

    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "serving tradeoff.v1.PlannerService");
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tonic::transport::Server::builder()
        .trace_fn(|request| tracing::info_span!("grpc", method = %request.uri().path()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(planner)
        // Without TCP_NODELAY, Nagle's algorithm holds a unary answer's last
        // frames until the client's delayed ACK: about 40 ms added to every call.
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            async {
                let _ = stop_rx.await;
            },
        );
    tokio::pin!(server);

    tokio::select! {
        result = &mut server => return result.map_err(Into::into),
        () = shutdown => {}
    }
    tracing::info!(drain = ?config.drain_timeout, "shutting down: NOT_SERVING, draining in-flight calls");
    health
        .set_not_serving::<PlannerServiceServer<Planner>>()
        .await;
    let _ = stop_tx.send(());
    match tokio::time::timeout(config.drain_timeout, &mut server).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => {
            tracing::warn!("drain timeout passed; abandoning in-flight calls");
            Ok(())
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received");
}
