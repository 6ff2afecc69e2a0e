//! The alert dispatcher's Lambda entry point: only wiring. See the library for the handler.

use std::sync::Arc;

use alert_dispatcher::{Config, Dispatcher};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

/// JSON logs for CloudWatch. The level comes from `RUST_LOG`, else the function's
/// `AWS_LAMBDA_LOG_LEVEL` (the Lambda logging configuration), else `info`.
fn init_tracing() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("AWS_LAMBDA_LOG_LEVEL")
                .ok()
                .map(|v| v.to_ascii_lowercase())
        })
        .unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_current_span(false)
        .with_ansi(false)
        .with_target(false)
        .init();
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = Config::from_env().map_err(|e| {
        tracing::error!(error = %e, "alert-dispatcher is misconfigured");
        e
    })?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dispatcher = Arc::new(Dispatcher::from_config(&config, &sdk).map_err(|e| {
        tracing::error!(error = %e, "alert-dispatcher is misconfigured");
        e
    })?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let dispatcher = dispatcher.clone();
        async move {
            dispatcher
                .handle(event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
