//! SecretSource and SecretsClient against a real Secrets Manager API: moto's server
//! (`HANDOFF_MOTO_URL`, or one started for this test binary, as for the other AWS
//! crates), each test in a fresh moto account.

use handoff_dynamodb::testing::{self, AccountHeader};
use handoff_secrets::{SecretError, SecretSource, SecretsClient};

async fn secretsmanager(account: &str) -> aws_sdk_secretsmanager::Client {
    let sdk = testing::moto().sdk_config().await;
    aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&sdk)
            .interceptor(AccountHeader(account.to_string()))
            .build(),
    )
}

/// Creates a text secret; returns its ARN.
async fn create(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) -> String {
    let out = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateSecret {name}: {e:?}"));
    out.arn
        .unwrap_or_else(|| panic!("CreateSecret {name} returned no ARN"))
}

fn source(name: &str, arn: &str) -> SecretSource {
    let var = format!("{name}_ARN");
    SecretSource::from_vars(name, |n| (n == var).then(|| arn.to_string()))
        .unwrap_or_else(|e| panic!("source: {e}"))
        .unwrap_or_else(|| panic!("{name}_ARN set, but no source"))
}

#[tokio::test]
async fn reads_the_secret_named_by_the_arn_variable() {
    let account = testing::moto().account();
    let sm = secretsmanager(&account).await;
    let arn = create(&sm, "handoff/token", "k3y-material-0123456789-abcdef").await;
    let client = SecretsClient::with_client(sm);

    let value = source("HANDOFF_TOKEN_SECRET", &arn)
        .value_with(&client)
        .await
        .unwrap_or_else(|e| panic!("value: {e}"));
    assert_eq!(value.expose(), "k3y-material-0123456789-abcdef");
}

#[tokio::test]
async fn the_value_is_fetched_once_and_cached() {
    let account = testing::moto().account();
    let sm = secretsmanager(&account).await;
    let arn = create(&sm, "twilio/auth", "first-value").await;
    let client = SecretsClient::with_client(sm.clone());
    let src = source("TWILIO_AUTH_TOKEN", &arn);

    let first = src
        .value_with(&client)
        .await
        .unwrap_or_else(|e| panic!("first: {e}"));
    // Rotated in Secrets Manager: this instance keeps what it read at cold start...
    sm.put_secret_value()
        .secret_id(&arn)
        .secret_string("second-value")
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutSecretValue: {e:?}"));
    let again = src
        .value_with(&client)
        .await
        .unwrap_or_else(|e| panic!("again: {e}"));
    assert_eq!(first.expose(), "first-value");
    assert_eq!(again.expose(), "first-value");
    // ...and a new instance (a new client) reads the current version.
    let fresh = src
        .value_with(&SecretsClient::with_client(sm))
        .await
        .unwrap_or_else(|e| panic!("fresh: {e}"));
    assert_eq!(fresh.expose(), "second-value");
}

#[tokio::test]
async fn a_missing_secret_is_a_clear_error_and_not_cached() {
    let account = testing::moto().account();
    let sm = secretsmanager(&account).await;
    let client = SecretsClient::with_client(sm.clone());
    // By name (a secret id can be its name or its ARN).
    let src = source("HANDOFF_TOKEN_SECRET", "handoff/late");

    let err = src.value_with(&client).await.err();
    match &err {
        Some(SecretError::Fetch {
            name,
            secret_id,
            reason,
        }) => {
            assert_eq!(name, "HANDOFF_TOKEN_SECRET");
            assert_eq!(secret_id, "handoff/late");
            assert!(reason.contains("ResourceNotFound"), "{reason}");
        }
        other => panic!("expected a fetch error, got {other:?}"),
    }

    // Created afterwards: the same client tries again rather than keeping the failure.
    create(&sm, "handoff/late", "now-here-0123456789").await;
    let value = src
        .value_with(&client)
        .await
        .unwrap_or_else(|e| panic!("after creation: {e}"));
    assert_eq!(value.expose(), "now-here-0123456789");
}

#[tokio::test]
async fn a_binary_only_secret_is_refused() {
    let account = testing::moto().account();
    let sm = secretsmanager(&account).await;
    let out = sm
        .create_secret()
        .name("handoff/binary")
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(vec![
            0u8, 1, 2, 3,
        ]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateSecret: {e:?}"));
    let arn = out.arn.unwrap_or_else(|| panic!("no ARN"));
    let err = source("HANDOFF_TOKEN_SECRET", &arn)
        .value_with(&SecretsClient::with_client(sm))
        .await
        .err();
    assert!(
        matches!(err, Some(SecretError::NotText { .. })),
        "expected NotText, got {err:?}"
    );
}

#[tokio::test]
async fn the_secret_is_in_the_account_it_was_created_in() {
    // Account isolation holds for secrets too: another account's client cannot read it.
    let moto = testing::moto();
    let owner = moto.account();
    let arn = create(
        &secretsmanager(&owner).await,
        "handoff/isolated",
        "owner-only-value",
    )
    .await;
    let stranger = SecretsClient::with_client(secretsmanager(&moto.account()).await);
    let err = source("HANDOFF_TOKEN_SECRET", &arn)
        .value_with(&stranger)
        .await
        .err();
    assert!(matches!(err, Some(SecretError::Fetch { .. })), "{err:?}");
}
