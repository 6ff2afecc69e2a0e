//! The SMS inbound function's Lambda entry point: only wiring. See the library for the
//! handler.

use std::sync::Arc;

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

use handoff_dynamodb::DynamoStore;
use handoff_http::config::{Config, ProcessEnv, Secrets};
use handoff_http::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handoff_http::telemetry::init_json();
    let misconfigured = |e: handoff_http::ConfigError| {
        tracing::error!(error = %e, "sms-inbound is misconfigured");
        format!("sms-inbound is misconfigured: {e}")
    };
    // No secret: SMS customers get no conversation token.
    let config = Config::for_function(Function::SmsInbound, &ProcessEnv, &Secrets::none())
        .map_err(misconfigured)?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::from_conf(&sdk, config.table().map_err(misconfigured)?)
        .with_retention_days(config.retention_days);
    // Metrics as EMF lines on stdout, which CloudWatch Logs turns into metrics.
    let metrics = Arc::new(handoff_core::insights::emf::StdoutSink);
    let service = Arc::new(
        config
            .service(Arc::new(store))
            .with_metrics(metrics, "sms-inbound"),
    );
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
