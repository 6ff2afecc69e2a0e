//! The alert dispatcher's Lambda entry point: only wiring. See the library for the handler.

use std::sync::Arc;

use alert_dispatcher::{Config, Dispatcher};
use handoff_http::config::Secrets;
use handoff_http::Function;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handoff_http::telemetry::init_json();
    let misconfigured = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "alert-dispatcher is misconfigured");
    };
    // TWILIO_AUTH_TOKEN (SmsProvider twilio): from Secrets Manager by TWILIO_AUTH_TOKEN_ARN.
    let secrets = Secrets::read(Function::AlertDispatcher, |name| async move {
        let value = handoff_secrets::read(name).await?;
        Ok::<_, handoff_secrets::SecretError>(value.map(|v| v.expose().to_string()))
    })
    .await
    .inspect_err(|e| misconfigured(e))?;
    let config = Config::from_env(&secrets).inspect_err(|e| misconfigured(e))?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dispatcher = Arc::new(
        Dispatcher::from_config(&config, &sdk)
            .inspect_err(|e| misconfigured(e))?
            .with_metrics(Arc::new(handoff_core::insights::emf::StdoutSink)),
    );
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
