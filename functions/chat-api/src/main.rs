//! chat-api on Lambda: only wiring. Secrets and configuration are read and checked at
//! cold start; a missing or unreadable one stops it, naming the variable.

use std::sync::Arc;

use chat_api::ChatApi;
use handoff_dynamodb::DynamoStore;
use handoff_http::config::{ProcessEnv, Secrets};
use handoff_http::{Config, Function, Request};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    handoff_http::telemetry::init_json();
    // HANDOFF_TOKEN_SECRET and TWILIO_AUTH_TOKEN: from Secrets Manager by <NAME>_ARN.
    let secrets = Secrets::read(Function::ChatApi, |name| async move {
        let value = handoff_secrets::read(name).await?;
        Ok::<_, handoff_secrets::SecretError>(value.map(|v| v.expose().to_string()))
    })
    .await
    .inspect_err(|e| tracing::error!(error = %e, "chat-api cannot read its secrets"))?;
    let config = Config::for_function(Function::ChatApi, &ProcessEnv, &secrets)
        .inspect_err(|e| tracing::error!(error = %e, "chat-api is misconfigured"))?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store =
        DynamoStore::from_conf(&sdk, config.table()?).with_retention_days(config.retention_days);
    // Metrics as EMF lines on stdout, which CloudWatch Logs turns into metrics.
    let metrics = Arc::new(handoff_core::insights::emf::StdoutSink);
    let service = Arc::new(
        config
            .service(Arc::new(store))
            .with_metrics(metrics, "chat-api"),
    );
    let photos = handoff_s3::S3Attachments::from_env(handoff_s3::Config::from(&sdk))
        .map(|s3| handoff_core::service::Photos::new(Arc::new(s3), config.retention_days));
    let api = Arc::new(ChatApi::from_config(service, &config)?.with_photos(photos));
    run(service_fn(move |event: LambdaEvent<Request>| {
        let api = api.clone();
        async move { Ok::<_, Error>(api.handle(event.payload).await) }
    }))
    .await
}
