//! `handoff`: run Handoff on localhost, invoke its functions with event files,
//! evaluate answer quality, issue agent tokens.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use handoff_core::auth::AgentTokens;
use handoff_core::ids::AgentId;
use handoff_local::{eval, invoke, secrets, server};
use handoff_sqlite::SqliteStore;

#[derive(Parser)]
#[command(
    name = "handoff",
    version,
    about = "Handoff on localhost: serve, invoke, eval, token"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StoreKind {
    Sqlite,
    Dynamodb,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every function on 127.0.0.1 over the embedded store.
    Serve {
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Where the store, secrets and delivered messages are kept.
        #[arg(long, default_value = ".handoff")]
        data: PathBuf,
        /// FAQ catalog (JSON); default: $HANDOFF_FAQ_FILE, else the sample catalog.
        #[arg(long)]
        faqs: Option<PathBuf>,
        /// sqlite (embedded, in --data) or dynamodb ($HANDOFF_TABLE through the standard
        /// AWS settings: AWS_ENDPOINT_URL, AWS_REGION, credentials).
        #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
        store: StoreKind,
        /// With --store dynamodb: create the table and the alerts topic when missing.
        #[arg(long)]
        provision: bool,
    },
    /// Run one function's handler on an event file and print its response.
    Invoke {
        /// chat-api or agent-api
        function: String,
        event: PathBuf,
        #[arg(long)]
        faqs: Option<PathBuf>,
    },
    /// Measure answer quality: each query as the first message of a fresh conversation.
    Eval {
        /// FAQ catalog (JSON); repeat with --queries for several sets.
        #[arg(long, required = true)]
        faqs: Vec<PathBuf>,
        /// Queries (JSON lines), one per --faqs, in the same order.
        #[arg(long, required = true)]
        queries: Vec<PathBuf>,
        /// Print each query's decision, score, runner-up and evidence (JSON lines).
        #[arg(long)]
        explain: bool,
        /// Sentence encoder model directory; default $HANDOFF_MODEL_DIR, else
        /// .handoff/models/usem3 (words only when its files are absent).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Before evaluating, add this file's `faq:<id>` queries to the catalog as
        /// accepted examples (as an accepted suggestion does); one per --faqs.
        #[arg(long)]
        learn_from: Vec<PathBuf>,
        /// Evaluate only one half of each query file: `learn` (odd non-blank lines)
        /// or `test` (even ones).
        #[arg(long)]
        half: Option<handoff_local::learn::Half>,
    },
    /// Print one half of a query file (`learn`: odd non-blank lines, `test`: even
    /// ones): the fixed split the learning loop is measured on.
    EvalSplit {
        file: PathBuf,
        #[arg(long)]
        half: handoff_local::learn::Half,
    },
    /// Print the supervisors' insights (the same as GET /v1/agent/insights) as a table.
    Insights {
        #[arg(long, default_value = ".handoff")]
        data: PathBuf,
        /// First day, YYYY-MM-DD (UTC; default: --to, or today).
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD (default: --from, or today).
        #[arg(long)]
        to: Option<String>,
        /// Print the JSON of the API instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Print a bearer token for the local agent API.
    Token {
        agent_id: String,
        #[arg(long)]
        supervisor: bool,
        #[arg(long, default_value = ".handoff")]
        data: PathBuf,
        /// Lifetime in hours (a shift; the console keeps it only for the tab's session).
        #[arg(long, default_value_t = 8)]
        hours: i64,
    },
}

/// The local server over DynamoDB and SNS (moto or a real account).
async fn aws_app(opts: &server::ServeOptions, provision: bool) -> Result<server::App, String> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = handoff_dynamodb::DynamoStore::from_env(&sdk).map_err(|e| e.to_string())?;
    if provision {
        store
            .provision()
            .await
            .map_err(|e| format!("provisioning table {}: {e}", store.table()))?;
    }
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic =
        match std::env::var("HANDOFF_ALERTS_TOPIC_ARN")
            .ok()
            .filter(|t| !t.is_empty())
        {
            Some(arn) => arn,
            None if provision => handoff_sns::SnsDelivery::provision_topic(&sns, "handoff-alerts")
                .await
                .map_err(|e| format!("provisioning the alerts topic: {e}"))?,
            None => return Err(
                "HANDOFF_ALERTS_TOPIC_ARN is required with --store dynamodb (or pass --provision)"
                    .into(),
            ),
        };
    let sms = handoff_sns::SmsSettings::from_vars(|n| std::env::var(n).ok());
    let mut app = server::build_app(opts, Arc::new(store))?;
    let credit_events = match std::env::var("HANDOFF_CREDIT_EVENTS_TOPIC_ARN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        Some(arn) => Some(arn),
        None if provision => Some(
            handoff_sns::SnsDelivery::provision_topic(&sns, "handoff-credit-events")
                .await
                .map_err(|e| format!("provisioning the credit events topic: {e}"))?,
        ),
        // Decided credits then fail delivery, logged by the dispatcher loop.
        None => None,
    };
    app.delivery = Arc::new(
        handoff_sns::SnsDelivery::new(sns, topic.clone(), sms)
            .with_credit_events_topic(credit_events),
    );
    println!(
        "store: DynamoDB table {}; alerts: {topic}",
        std::env::var("HANDOFF_TABLE").unwrap_or_default()
    );
    Ok(app)
}

/// This binary as it can be run from the current directory: its path, else `handoff`.
fn this_binary() -> String {
    std::env::current_exe()
        .ok()
        .map(|exe| {
            let cwd = std::env::current_dir().unwrap_or_default();
            match exe.strip_prefix(&cwd) {
                Ok(rel) => format!("./{}", rel.display()),
                Err(_) => exe.display().to_string(),
            }
        })
        .unwrap_or_else(|| "handoff".into())
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("handoff: {msg}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    handoff_http::telemetry::init_text();
    match Cli::parse().command {
        Command::Serve {
            port,
            data,
            faqs,
            store,
            provision,
        } => {
            // The port first: a busy port fails before anything is written.
            let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => l,
                Err(e) => return fail(format!("port {port}: {e}")),
            };
            if let Err(e) = secrets::create_data_dir(&data) {
                return fail(format!("{}: {e}", data.display()));
            }
            let opts = server::ServeOptions {
                data: data.clone(),
                faqs,
            };
            let app = match store {
                StoreKind::Sqlite => match SqliteStore::open(data.join("handoff.db")) {
                    Ok(s) => server::build_app(&opts, Arc::new(s)),
                    Err(e) => return fail(format!("store: {e}")),
                },
                StoreKind::Dynamodb => aws_app(&opts, provision).await,
            };
            let app = match app {
                Ok(a) => Arc::new(a),
                Err(e) => return fail(e),
            };
            let addr = match server::serve(listener, app).await {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            println!("Handoff is running on http://{addr}");
            println!("  demo page + chat widget  http://{addr}/");
            println!(
                "  agent console            http://{addr}/console   (sign in with: {} token <agent-id> --data {})",
                this_binary(),
                data.display()
            );
            println!("  chat API                 http://{addr}/v1/chat/messages");
            println!("  agent API                http://{addr}/v1/agent/queue");
            println!(
                "  alerts and texts go to   {}",
                data.join("deliveries.jsonl").display()
            );
            let _ = tokio::signal::ctrl_c().await;
            ExitCode::SUCCESS
        }
        Command::Invoke {
            function,
            event,
            faqs,
        } => {
            let text = match std::fs::read_to_string(&event) {
                Ok(t) => t,
                Err(e) => return fail(format!("{}: {e}", event.display())),
            };
            let value: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return fail(format!("{}: not JSON: {e}", event.display())),
            };
            let app = match invoke::demo_app(faqs).await {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            match invoke::invoke(&app, &function, value).await {
                Ok(out) => {
                    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Eval {
            faqs,
            queries,
            explain,
            model,
            learn_from,
            half,
        } => match eval::run_sets(
            &faqs,
            &queries,
            &handoff_local::learn::LoopOptions { learn_from, half },
            model.as_deref(),
            explain,
            &mut std::io::stdout(),
        ) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::EvalSplit { file, half } => match std::fs::read_to_string(&file) {
            Ok(text) => {
                print!("{}", handoff_local::learn::half(&text, half));
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("{}: {e}", file.display())),
        },
        Command::Insights {
            data,
            from,
            to,
            json,
        } => match handoff_local::insights::report(&data, from.as_deref(), to.as_deref()).await {
            Ok(r) if json => {
                println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Ok(r) => {
                print!("{}", handoff_local::insights::table(&r));
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Token {
            agent_id,
            supervisor,
            data,
            hours,
        } => {
            let agent = match AgentId::parse(&agent_id) {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            let secrets = match secrets::load_or_create(&data) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            let token = AgentTokens::new(secrets.jwt_secret).issue(
                &agent,
                supervisor,
                jiff::Timestamp::now().as_second(),
                hours * 3600,
            );
            println!("{token}");
            ExitCode::SUCCESS
        }
    }
}
