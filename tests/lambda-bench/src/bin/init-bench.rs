//! `init-bench [--runs N] [--bin PATH]... [--root DIR] [--env K=V]... [--logs DIR]`
//!
//! Cold-start init time of Lambda binaries against an in-process Runtime API stub:
//! spawn → first `GET .../invocation/next` (ready), then one event → its answer.
//! See tests/lambda-bench/README.md.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use lambda_bench::{median, quantile, Outcome, Stub};

const DEFAULT_BINS: [&str; 5] = [
    "hello-lambda",
    "chat-api",
    "agent-api",
    "sms-inbound",
    "alert-dispatcher",
];

struct Args {
    runs: usize,
    bins: Vec<PathBuf>,
    root: PathBuf,
    env: Vec<(String, String)>,
    logs: Option<PathBuf>,
    timeout: Duration,
}

fn usage() -> &'static str {
    "usage: init-bench [--runs N] [--bin PATH]... [--root WORKSPACE] [--env KEY=VALUE]... \
     [--logs DIR] [--timeout-ms MS]"
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let mut args = Args {
        runs: 20,
        bins: Vec::new(),
        root,
        env: Vec::new(),
        logs: None,
        timeout: Duration::from_secs(15),
    };
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value\n{}", usage()));
        match a.as_str() {
            "--runs" => {
                args.runs = value()?
                    .parse()
                    .map_err(|_| "--runs: not a number".to_string())?
            }
            "--bin" => args.bins.push(value()?.into()),
            "--root" => args.root = value()?.into(),
            "--logs" => args.logs = Some(value()?.into()),
            "--timeout-ms" => {
                args.timeout = Duration::from_millis(
                    value()?
                        .parse()
                        .map_err(|_| "--timeout-ms: not a number".to_string())?,
                )
            }
            "--env" => {
                let kv = value()?;
                let (k, v) = kv.split_once('=').ok_or("--env wants KEY=VALUE")?;
                args.env.push((k.into(), v.into()));
            }
            "-h" | "--help" => return Err(usage().into()),
            _ => return Err(format!("unknown argument {a}\n{}", usage())),
        }
    }
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    if args.bins.is_empty() {
        let release = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| args.root.join("target"))
            .join("release");
        args.bins = DEFAULT_BINS.iter().map(|b| release.join(b)).collect();
    }
    Ok(args)
}

fn name_of(bin: &Path) -> String {
    bin.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| bin.display().to_string())
}

/// A small valid event for each function; the echo function gets anything.
fn event_for(root: &Path, name: &str) -> Result<(String, Bytes), String> {
    let file = match name {
        "chat-api" => "events/chat-api/healthz.json",
        "agent-api" => "events/agent-api/console.json",
        "sms-inbound" => "events/sms-inbound/help.json",
        "alert-dispatcher" => "events/alert-dispatcher/scheduled-sweep.json",
        _ => {
            return Ok((
                "{\"hello\":\"world\"}".into(),
                Bytes::from_static(b"{\"hello\":\"world\"}"),
            ))
        }
    };
    let path = root.join(file);
    let body = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((file.to_string(), Bytes::from(body)))
}

fn base_env(root: &Path, stub: &str) -> Vec<(String, String)> {
    let faq = root.join("functions/http/sample-faq.json");
    [
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_LAMBDA_RUNTIME_API", stub.into()),
        (
            "HANDOFF_TOKEN_SECRET",
            "bench-token-secret-0123456789abc".into(),
        ),
        ("HANDOFF_TABLE", "bench".into()),
        (
            "HANDOFF_ALERTS_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:bench".into(),
        ),
        ("HANDOFF_FAQ_FILE", faq.display().to_string()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "AKIDBENCHBENCHBENCH0".into()),
        ("AWS_SECRET_ACCESS_KEY", "bench-secret-key".into()),
        ("AWS_SESSION_TOKEN", "bench-session-token".into()),
        // The stub itself: an AWS call shows up as a non-Runtime-API request.
        ("AWS_ENDPOINT_URL", format!("http://{stub}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[derive(Default)]
struct Stats {
    init_ms: Vec<f64>,
    first_ms: Vec<f64>,
    handler_ms: Vec<f64>,
    responses: usize,
    errors: usize,
    failures: Vec<String>,
    aws_before_ready: usize,
    aws_after_ready: usize,
    /// Peak resident set (VmHWM) after the first answer, in KiB.
    peak_rss_kib: Vec<f64>,
}

/// The process's peak resident set so far (Linux `VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for `rx` while checking that the process is still alive.
async fn wait_for<T>(
    rx: &mut tokio::sync::oneshot::Receiver<T>,
    child: &mut Child,
    until: Instant,
    what: &str,
) -> Result<T, String> {
    loop {
        tokio::select! {
            got = &mut *rx => return got.map_err(|_| format!("stub dropped while waiting for {what}")),
            _ = tokio::time::sleep(Duration::from_millis(2)) => {
                if let Ok(Some(status)) = child.try_wait() {
                    // It may have answered just before exiting.
                    return rx.try_recv().map_err(|_| format!("exited ({status}) before {what}"));
                }
                if Instant::now() > until {
                    return Err(format!("timed out waiting for {what}"));
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn one_run(
    stub: &Stub,
    args: &Args,
    env: &[(String, String)],
    bin: &Path,
    name: &str,
    event: &Bytes,
    run: usize,
    stats: &mut Stats,
) {
    let id = format!("bench-{run}-{name}");
    let mut armed = stub.arm(&id, event.clone());
    let (stdout, stderr) = match &args.logs {
        Some(dir) => {
            let path = dir.join(format!("{name}-{run}.log"));
            match std::fs::File::create(&path).and_then(|f| Ok((f.try_clone()?, f))) {
                Ok((a, b)) => (Stdio::from(a), Stdio::from(b)),
                Err(e) => {
                    stats.failures.push(format!("{}: {e}", path.display()));
                    return;
                }
            }
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    for (k, v) in &args.env {
        cmd.env(k, v);
    }
    let t0 = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            stats.failures.push(format!("spawn: {e}"));
            return;
        }
    };
    let until = t0 + args.timeout;
    let ready = match wait_for(&mut armed.ready, &mut child, until, "the first event poll").await {
        Ok(t) => t,
        Err(e) => {
            kill(&mut child);
            stats.failures.push(e);
            return;
        }
    };
    let done = wait_for(&mut armed.done, &mut child, until, "the answer").await;
    if let Some(kib) = peak_rss_kib(child.id()) {
        stats.peak_rss_kib.push(kib);
    }
    kill(&mut child);
    let aws = stub.other_requests_since(t0);
    stats.aws_before_ready += aws.iter().filter(|r| r.at < ready).count();
    stats.aws_after_ready += aws.iter().filter(|r| r.at >= ready).count();
    match done {
        Ok((at, outcome)) => {
            stats.init_ms.push(ms(ready - t0));
            stats.first_ms.push(ms(at - t0));
            stats.handler_ms.push(ms(at - ready));
            match outcome {
                Outcome::Response => stats.responses += 1,
                Outcome::Error => stats.errors += 1,
            }
        }
        Err(e) => stats.failures.push(e),
    }
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

fn fmt_ms(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into())
}

/// Size after `strip` (a copy), when the tool is there; the release profile strips already.
fn stripped_size(bin: &Path) -> Option<u64> {
    let out = std::env::temp_dir().join(format!(
        "init-bench-strip-{}-{}",
        std::process::id(),
        name_of(bin)
    ));
    let ok = Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(bin)
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let size = ok
        .then(|| std::fs::metadata(&out).ok().map(|m| m.len()))
        .flatten();
    let _ = std::fs::remove_file(&out);
    size
}

fn shell_quote(a: &str) -> String {
    if !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let command: Vec<String> = std::env::args().map(|a| shell_quote(&a)).collect();
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);

    let mut bins = Vec::new();
    for bin in &args.bins {
        if !bin.is_file() {
            eprintln!(
                "{}: not found; build with: cargo build --release -p lambda-bench -p chat-api \
                 -p agent-api -p sms-inbound -p alert-dispatcher",
                bin.display()
            );
            return ExitCode::FAILURE;
        }
        let name = name_of(bin);
        let (event_label, event) = match event_for(&args.root, &name) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        bins.push((bin.clone(), name, event_label, event));
    }
    if let Some(dir) = &args.logs {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("{}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    }

    let stub = Stub::default();
    let addr = match stub.start(([127, 0, 0, 1], 0).into()).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stub: {e}");
            return ExitCode::FAILURE;
        }
    };
    let env = base_env(&args.root, &addr.to_string());

    println!("command: {}", command.join(" "));
    println!(
        "nproc {nproc} · load average {} · runs {} per binary · stub http://{addr}",
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        args.runs
    );
    for (bin, name, event_label, _) in &bins {
        println!("  {name}: {} · event {event_label}", bin.display());
    }
    if !args.env.is_empty() {
        let extra: Vec<String> = args.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("  extra env: {}", extra.join(" "));
    }

    let mut stats: Vec<Stats> = bins.iter().map(|_| Stats::default()).collect();
    for run in 0..args.runs {
        // Alternate the binaries, starting each round one further along.
        for k in 0..bins.len() {
            let i = (run + k) % bins.len();
            let (bin, name, _, event) = &bins[i];
            one_run(&stub, &args, &env, bin, name, event, run, &mut stats[i]).await;
        }
    }

    let hello = bins
        .iter()
        .position(|b| b.1 == "hello-lambda")
        .and_then(|i| median(&sorted(&stats[i].init_ms)));
    println!();
    println!(
        "{:<18} {:>4} {:>9} {:>9} {:>11} {:>11} {:>10} {:>10} {:>10} {:>8} {:>9}",
        "binary",
        "ok",
        "init med",
        "init p90",
        "1st resp",
        "handler",
        "answers",
        "bytes",
        "stripped",
        "x hello",
        "peak RSS"
    );
    println!(
        "{:<18} {:>4} {:>9} {:>9} {:>11} {:>11} {:>10} {:>10} {:>10} {:>8} {:>9}",
        "", "", "ms", "ms", "med ms", "med ms", "resp/err", "", "", "(init)", "med MiB"
    );
    let mut failed = false;
    for ((bin, name, _, _), s) in bins.iter().zip(&stats) {
        let init = sorted(&s.init_ms);
        let init_med = median(&init);
        let ratio = match (init_med, hello) {
            (Some(m), Some(h)) if h > 0.0 => format!("{:.2}", m / h),
            _ => "-".into(),
        };
        let bytes = std::fs::metadata(bin).map(|m| m.len()).unwrap_or(0);
        println!(
            "{:<18} {:>4} {:>9} {:>9} {:>11} {:>11} {:>10} {:>10} {:>10} {:>8} {:>9}",
            name,
            s.init_ms.len(),
            fmt_ms(init_med),
            fmt_ms(quantile(&init, 0.9)),
            fmt_ms(median(&sorted(&s.first_ms))),
            fmt_ms(median(&sorted(&s.handler_ms))),
            format!("{}/{}", s.responses, s.errors),
            bytes,
            stripped_size(bin)
                .map(|b| b.to_string())
                .unwrap_or_else(|| "-".into()),
            ratio,
            fmt_ms(median(&sorted(&s.peak_rss_kib)).map(|k| k / 1024.0))
        );
        failed |= !s.failures.is_empty();
    }
    println!();
    println!("init: spawn → first GET {}", lambda_bench::NEXT_PATH);
    println!("1st resp: spawn → POST .../response or .../error; handler: the difference");
    for ((_, name, _, _), s) in bins.iter().zip(&stats) {
        println!(
            "{name}: AWS calls before ready {}, after {} (over {} runs)",
            s.aws_before_ready,
            s.aws_after_ready,
            s.init_ms.len() + s.failures.len()
        );
        for f in s.failures.iter().take(3) {
            println!("  failed run: {f}");
        }
    }
    let end_load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average at end: {}",
        end_load
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
