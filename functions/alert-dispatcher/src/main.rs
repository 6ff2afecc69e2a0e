//! The alert dispatcher's Lambda entry point: only wiring. See the library for the handler.

use std::sync::Arc;

use alert_dispatcher::{Config, Dispatcher};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handoff_http::telemetry::init_json();
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
