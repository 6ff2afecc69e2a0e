//! The SMS inbound function's Lambda entry point: only wiring. See the library for the
//! handler.

use std::sync::Arc;

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

use handoff_core::ports::SystemClock;
use handoff_core::HandoffService;
use handoff_dynamodb::DynamoStore;
use handoff_http::config::{Config, ProcessEnv};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handoff_http::telemetry::init_json();
    let config = Config::from_vars(&ProcessEnv).map_err(|e| {
        tracing::error!(error = %e, "sms-inbound is misconfigured");
        format!("sms-inbound is misconfigured: {e}")
    })?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // HANDOFF_TABLE (required) and HANDOFF_RETENTION_DAYS.
    let store = DynamoStore::from_env(&sdk).map_err(|e| {
        tracing::error!(error = %e, "sms-inbound is misconfigured");
        format!("sms-inbound is misconfigured: {e}")
    })?;
    let service = Arc::new(HandoffService::new(
        Arc::new(store),
        Arc::new(SystemClock),
        config.catalog,
        config.index,
        config.settings,
    ));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| {
        let service = service.clone();
        async move {
            sms_inbound::handle(&service, event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
