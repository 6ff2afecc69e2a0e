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
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(encoder.embed_batch(&sentences));
    }
    let per = t.elapsed().as_secs_f64() / (rounds * sentences.len()) as f64;
    println!(
        "embed_batch: {:.1} µs per sentence ({:.0} sentences/s)",
        per * 1e6,
        1.0 / per
    );
    println!("peak RSS (VmHWM): {}", peak_rss_kib());
    Ok(())
}
