//! Encoder latency: `cargo run --release -p handoff-encoder --example bench [N]`.
//!
//! Prints open() time, tokenizer and single-sentence embed latency (median,
//! p99) over the committed test sentences, batch throughput, and peak RSS
//! (VmHWM). Model from `$HANDOFF_MODEL_DIR` or `.handoff/models/usem3`.

use std::time::{Duration, Instant};

use handoff_encoder::{model_dir, Encoder};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn peak_rss_kib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// CPU time this process has used (user + system), from /proc/self/stat in
/// clock ticks of 10 ms: over a run of seconds it tells how much of the wall
/// time the process actually had a core on a shared machine.
fn process_cpu() -> Duration {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let f: Vec<&str> = after.split_whitespace().collect();
            let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(Duration::from_millis(ticks * 10))
        })
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).map_or(Ok(20), |a| a.parse())?;
    let dir = model_dir();
    let started = Instant::now();
    let encoder = Encoder::open(&dir)?;
    let open_time = started.elapsed();
    println!("model dir: {}", dir.display());
    println!(
        "open(): {:.2} ms  (peak RSS after open: {})",
        open_time.as_secs_f64() * 1e3,
        peak_rss_kib()
    );

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sentences.json");
    let sentences: Vec<String> = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let tokens: usize = sentences.iter().map(|s| encoder.token_ids(s).len()).sum();
    println!(
        "{} sentences, {:.1} tokens each on average (BOS/EOS included), {rounds} rounds",
        sentences.len(),
        tokens as f64 / sentences.len() as f64
    );

    let first = Instant::now();
    std::hint::black_box(encoder.embed(&sentences[0]));
    println!(
        "first embed (cold table pages): {:.3} ms",
        first.elapsed().as_secs_f64() * 1e3
    );

    let mut tok = Vec::new();
    let mut emb = Vec::new();
    let cpu0 = process_cpu();
    let wall0 = Instant::now();
    for _ in 0..rounds {
        for s in &sentences {
            let t = Instant::now();
            std::hint::black_box(encoder.token_ids(s));
            tok.push(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(encoder.embed(s));
            emb.push(t.elapsed());
        }
    }
    let share = (process_cpu() - cpu0).as_secs_f64() / wall0.elapsed().as_secs_f64();
    let mean = emb.iter().sum::<Duration>() / emb.len() as u32;
    tok.sort();
    emb.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "token_ids per sentence: median {:.1} µs, p99 {:.1} µs",
        us(percentile(&tok, 0.5)),
        us(percentile(&tok, 0.99))
    );
    println!(
        "embed per sentence:     median {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        us(percentile(&emb, 0.5)),
        us(percentile(&emb, 0.99)),
        us(emb[emb.len() - 1])
    );
    println!(
        "embed per sentence mean: {:.1} µs; this process had a core {:.0}% of the wall time",
        us(mean),
        share * 100.0
    );
    // The longest message the API accepts (2,000 characters): the worst case.
    let longest: String = sentences
        .iter()
        .flat_map(|s| s.chars().chain([' ']))
        .cycle()
        .take(2000)
        .collect();
    let mut long = Vec::new();
    for _ in 0..rounds.max(3) {
        let t = Instant::now();
        std::hint::black_box(encoder.embed(&longest));
        long.push(t.elapsed());
    }
    long.sort();
    println!(
        "embed of a 2,000-character message ({} tokens): median {:.2} ms",
        encoder.token_ids(&longest).len(),
        percentile(&long, 0.5).as_secs_f64() * 1e3
    );
    let cpu0 = process_cpu();
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(encoder.embed_batch(&sentences));
    }
    let wall = t.elapsed().as_secs_f64();
    let per = wall / (rounds * sentences.len()) as f64;
    println!(
        "embed_batch: {:.1} µs per sentence ({:.0} sentences/s); core {:.0}% of the wall time",
        per * 1e6,
        1.0 / per,
        (process_cpu() - cpu0).as_secs_f64() / wall * 100.0
    );
    println!("peak RSS (VmHWM): {}", peak_rss_kib());
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average: {}", load.trim());
    }
    Ok(())
}
