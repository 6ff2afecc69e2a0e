//! agent-api on Lambda: only wiring. API Gateway's JWT authorizer has checked the
//! agent's token before an event reaches this function; it reads no secret.

use std::sync::Arc;

use agent_api::AgentApi;
use handoff_dynamodb::DynamoStore;
use handoff_http::config::{ProcessEnv, Secrets};
use handoff_http::{Config, Function, Request};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    handoff_http::telemetry::init_json();
    let config = Config::for_function(Function::AgentApi, &ProcessEnv, &Secrets::none())
        .inspect_err(|e| tracing::error!(error = %e, "agent-api is misconfigured"))?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store =
        DynamoStore::from_conf(&sdk, config.table()?).with_retention_days(config.retention_days);
    // Metrics as EMF lines on stdout, which CloudWatch Logs turns into metrics.
    let metrics = Arc::new(handoff_core::insights::emf::StdoutSink);
    let service = Arc::new(
        config
            .service(Arc::new(store))
            .with_metrics(metrics, "agent-api"),
    );
    let photos = handoff_s3::S3Attachments::from_env(handoff_s3::Config::from(&sdk))
        .map(|s3| handoff_core::service::Photos::new(Arc::new(s3), config.retention_days));
    let api = Arc::new(
        AgentApi::new(service)
            .with_issuer(config.jwt_issuer.clone())
            .with_photos(photos),
    );
    run(service_fn(move |event: LambdaEvent<Request>| {
        let api = api.clone();
        async move { Ok::<_, Error>(api.handle(event.payload).await) }
    }))
    .await
}
