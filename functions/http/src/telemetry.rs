//! Logging: JSON lines in Lambda (CloudWatch), readable text locally.

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    // Lambda's advanced logging controls set AWS_LAMBDA_LOG_LEVEL; RUST_LOG wins when set.
    let level = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| {
            std::env::var("AWS_LAMBDA_LOG_LEVEL")
                .ok()
                .map(|l| l.to_lowercase())
        })
        .unwrap_or_else(|| "info".into());
    EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// JSON logs for Lambda, without ANSI colours or timestamps CloudWatch already adds.
pub fn init_json() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_current_span(true)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .try_init();
}

/// Human-readable logs for the local runner, on stderr; coloured only on a terminal
/// (a log file or a pipe gets plain text).
pub fn init_text() {
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
