//! Triage speed and catalog preparation time, printed (never asserted).
//!
//! ```text
//! cargo run --profile eval -p handoff-faq --example triage_bench -- \
//!     --faqs ../shared/eval/studio-faq.json --queries ../shared/eval/studio-dev.jsonl \
//!     [--big ../shared/eval/clinc150/faq-full.json] [--faqs-count 1000] [--rounds 20]
//! ```
//!
//! * per message (one core, catalog warm): signals, then the index's decision,
//!   exactly the product's order; p50 / p99 / max over `rounds` passes of the queries;
//! * catalog preparation (build + calibration) for the given catalog and for a
//!   catalog of 30 and of `faqs-count` FAQs cut from `--big` (each intent's
//!   examples split into FAQs of 4 to 10 examples, answers from the examples).

use std::time::Instant;

use std::sync::Arc;

use handoff_faq::{signals, Encoder, FaqCatalog, FaqIndex, Params};

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}

/// The product's order (handoff_core::triage): signals by words, the words-only
/// fast path, signals by meaning, then the full ranking. Returns whether a
/// decision was made and whether the words alone made it (no embedding).
fn triage_once(index: &FaqIndex, text: &str) -> (bool, bool) {
    if signals::detect(text).is_some() || index.sure_by_words(text).is_some() {
        return (true, true);
    }
    if index.meaning_signal(text).is_some() {
        return (true, false);
    }
    let answered = matches!(index.decide(text), handoff_faq::FaqDecision::Answer { .. });
    (answered, false)
}

fn time_build(catalog: &FaqCatalog, encoder: Option<&Arc<Encoder>>) -> (FaqIndex, f64) {
    let t = Instant::now();
    let index = match encoder {
        Some(e) => FaqIndex::build_with_encoder(catalog, Params::default(), e.clone()),
        None => FaqIndex::build(catalog),
    };
    (index, t.elapsed().as_secs_f64() * 1e3)
}

fn time_triage(index: &FaqIndex, texts: &[String], rounds: usize, label: &str) {
    let mut times = Vec::with_capacity(texts.len() * rounds);
    // Messages the words alone decided (signals by words or the fast path).
    let mut by_words = Vec::new();
    let mut sink = 0usize;
    for _ in 0..rounds {
        for t in texts {
            let s = Instant::now();
            let (decided, words) = triage_once(index, t);
            let us = s.elapsed().as_secs_f64() * 1e6;
            sink += usize::from(decided);
            times.push(us);
            if words {
                by_words.push(us);
            }
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    by_words.sort_by(|a, b| a.total_cmp(b));
    println!(
        "triage per message ({label}, {} messages x {rounds}): p50 {:.1} us, p99 {:.1} us, max {:.1} us ({sink} decided)",
        texts.len(),
        pct(&times, 0.5),
        pct(&times, 0.99),
        times.last().copied().unwrap_or(0.0)
    );
    if index.has_encoder() {
        println!(
            "  of which decided by words alone, no embedding ({} of {}): p50 {:.1} us, p99 {:.1} us",
            by_words.len(),
            times.len(),
            pct(&by_words, 0.5),
            pct(&by_words, 0.99)
        );
    }
}

/// A catalog of about `n` FAQs cut from a large one.
fn cut(big: &FaqCatalog, n: usize) -> FaqCatalog {
    let total: usize = big.faqs.iter().map(|f| f.all_questions().count()).sum();
    // Owners write a few examples per FAQ: at most 10 here.
    let per = (total / n.max(1)).clamp(4, 10);
    let mut faqs = Vec::new();
    'outer: for f in &big.faqs {
        let qs: Vec<&str> = f.all_questions().collect();
        for (i, chunk) in qs.chunks(per).enumerate() {
            if faqs.len() == n {
                break 'outer;
            }
            let mut faq = f.clone();
            faq.id = format!("{}-{i}", f.id);
            faq.questions = [(
                "en".to_string(),
                chunk.iter().map(|s| s.to_string()).collect(),
            )]
            .into_iter()
            .collect();
            faq.answer = [("en".to_string(), chunk[0].to_string())]
                .into_iter()
                .collect();
            faqs.push(faq);
        }
    }
    FaqCatalog {
        business: big.business.clone(),
        faqs,
    }
}

fn main() -> Result<(), String> {
    let mut faqs = None;
    let mut queries: Option<String> = None;
    let mut big = None;
    let mut count = 1000usize;
    let mut rounds = 20usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--faqs" => faqs = Some(val()?),
            "--queries" => queries = Some(val()?),
            "--big" => big = Some(val()?),
            "--faqs-count" => count = val()?.parse().map_err(|e| format!("{e}"))?,
            "--rounds" => rounds = val()?.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let faqs = faqs.ok_or("--faqs FILE")?;
    let catalog = FaqCatalog::from_json(&read(&faqs)?).map_err(|e| e.to_string())?;
    let encoder = handoff_faq::shared_encoder();
    let texts: Vec<String> = match &queries {
        Some(q) => read(q)?
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["text"].as_str().map(str::to_string))
            .collect(),
        None => Vec::new(),
    };
    for enc in std::iter::once(None).chain(encoder.as_ref().map(Some)) {
        let label = if enc.is_some() {
            "words and encoder"
        } else {
            "words only"
        };
        let (index, build_ms) = time_build(&catalog, enc);
        println!(
            "catalog {faqs} ({label}): {} FAQs, prepared in {build_ms:.1} ms (answer_min {:.2}, margin {:.2})",
            catalog.faqs.len(),
            index.answer_min(),
            index.answer_margin()
        );
        if !texts.is_empty() {
            time_triage(&index, &texts, rounds, label);
        }
    }
    if encoder.is_none() {
        println!("no model files: the encoder path was not measured");
    }
    if let Some(b) = big {
        let big = FaqCatalog::from_json(&read(&b)?).map_err(|e| e.to_string())?;
        for n in [30, count] {
            let c = cut(&big, n);
            let ex: usize = c.faqs.iter().map(|f| f.all_questions().count()).sum();
            for enc in std::iter::once(None).chain(encoder.as_ref().map(Some)) {
                let (_, ms) = time_build(&c, enc);
                println!(
                    "catalog of {} FAQs ({ex} examples) cut from {b}, {}: prepared in {ms:.1} ms",
                    c.faqs.len(),
                    if enc.is_some() {
                        "words and encoder"
                    } else {
                        "words only"
                    }
                );
            }
        }
    }
    Ok(())
}
