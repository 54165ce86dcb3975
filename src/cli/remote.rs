//! Calling a running server: one connection per command, gRPC errors mapped onto
//! the CLI's.

use std::future::Future;
use std::time::Duration;

use tonic::transport::Channel;
use tonic::Code;
use tonic_types::StatusExt;

use super::CliError;
use crate::convert::FieldViolation;
use crate::pb::planner_service_client::PlannerServiceClient;

/// A connected client.
pub(super) type Client = PlannerServiceClient<Channel>;

/// Connects to `url` (within 10 s).
pub(super) async fn connect(url: &str) -> Result<Client, CliError> {
    let connect_error = |reason: String| CliError::Connect {
        url: url.to_string(),
        reason,
    };
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_string())
        .map_err(|error| connect_error(error.to_string()))?
        .connect_timeout(Duration::from_secs(10));
    let channel = endpoint
        .connect()
        .await
        .map_err(|error| connect_error(error_chain(&error)))?;
    Ok(PlannerServiceClient::new(channel)
        .max_decoding_message_size(256 * 1024 * 1024)
        .max_encoding_message_size(256 * 1024 * 1024))
}

/// Connects to `url` and runs `call` with a client.
pub(super) fn call<T, F, Fut>(url: &str, call: F) -> Result<T, CliError>
where
    F: FnOnce(PlannerServiceClient<Channel>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Failed(format!("cannot start the runtime: {error}")))?;
    runtime.block_on(async {
        let client = connect(url).await?;
        match call(client).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(status_error(url, &status)),
        }
    })
}

/// An error with its causes ("transport error: connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The CLI error for a gRPC status.
pub(super) fn status_error(url: &str, status: &tonic::Status) -> CliError {
    match status.code() {
        Code::InvalidArgument => {
            let violations: Vec<FieldViolation> = status
                .get_details_bad_request()
                .map(|bad_request| {
                    bad_request
                        .field_violations
                        .into_iter()
                        .map(|violation| FieldViolation {
                            field: violation.field,
                            description: violation.description,
                        })
                        .collect()
                })
                .unwrap_or_default();
            if violations.is_empty() {
                CliError::Invalid(vec![FieldViolation {
                    field: "plan".into(),
                    description: status.message().to_string(),
                }])
            } else {
                CliError::Invalid(violations)
            }
        }
        // A busy server says when to come back; an oversized plan never fits.
        Code::ResourceExhausted if busy(status) => {
            CliError::Failed(format!("the server at {url} is busy: {}", status.message()))
        }
        Code::ResourceExhausted => CliError::TooLarge(status.message().to_string()),
        Code::FailedPrecondition => CliError::Usage(format!("{url}: {}", status.message())),
        Code::Unavailable => CliError::Connect {
            url: url.to_string(),
            reason: status.message().to_string(),
        },
        code => CliError::Failed(format!("server answered {code:?}: {}", status.message())),
    }
}

/// Whether `status` is a server at capacity (RESOURCE_EXHAUSTED with a retry
/// delay) rather than a request over a limit: the first is worth retrying.
pub(super) fn busy(status: &tonic::Status) -> bool {
    status.code() == Code::ResourceExhausted && status.get_details_retry_info().is_some()
}
