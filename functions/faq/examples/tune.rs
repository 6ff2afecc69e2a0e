//! Measures the FAQ matcher the way the product uses it.
//!
//! ```text
//! cargo run --release -p handoff-faq --example tune -- --faqs F [--queries Q] [--cv K]
//!     [--set name=value ...] [--no-signals] [--errors]
//! ```
//!
//! Policy for a first message: `signals::wants_human || signals::urgency` =>
//! handoff; else `decide`: Answer => that FAQ; Unsure/NoMatch => ask back.
//! Prints the eval README's metrics for the query file and k-fold
//! cross-validation accuracy over the catalog's own example questions.

use std::time::Instant;

use handoff_faq::{signals, FaqCatalog, FaqDecision, FaqIndex, Params};

#[derive(Debug, PartialEq)]
enum Act {
    Handoff,
    Answer(String),
    AskBack,
}

fn act(index: &FaqIndex, text: &str, use_signals: bool) -> (Act, Option<String>) {
    let ranked = index.rank(text, 3);
    let forced = ranked.first().map(|r| r.faq_id.clone());
    // The product's order (handoff_core::triage): signals by words, the
    // words-only fast path, signals by meaning, the full ranking.
    if use_signals && signals::detect(text).is_some() {
        return (Act::Handoff, forced);
    }
    if let Some(FaqDecision::Answer { faq_id, .. }) = index.sure_by_words(text) {
        return (Act::Answer(faq_id), forced);
    }
    if use_signals && index.meaning_signal(text).is_some() {
        return (Act::Handoff, forced);
    }
    let a = match index.decide_ranked(ranked) {
        FaqDecision::Answer { faq_id, .. } => Act::Answer(faq_id),
        FaqDecision::Unsure { .. } | FaqDecision::NoMatch => Act::AskBack,
    };
    (a, forced)
}

fn set_param(p: &mut Params, kv: &str) {
    let (k, v) = kv.split_once('=').expect("--set name=value");
    let f = || v.parse::<f32>().expect("number");
    match k {
        "use_concepts" => p.use_concepts = v == "true" || v == "1",
        "calib_mix" => p.calib_mix = v == "true" || v == "1",
        "w_knn" => p.w_knn = f(),
        "w_centroid" => p.w_centroid = f(),
        "w_lr" => p.w_lr = f(),
        "knn_top" => p.knn_top = f() as usize,
        "lr_epochs" => p.lr_epochs = f() as usize,
        "lr_rate" => p.lr_rate = f(),
        "lr_decay" => p.lr_decay = f(),
        "lr_dropout" => p.lr_dropout = f(),
        "answer_min" => p.answer_min = f(),
        "margin_min" => p.margin_min = f(),
        "unsure_min" => p.unsure_min = f(),
        "calib_wrong" => p.calib_wrong = f(),
        "answer_weight" => p.answer_weight = f(),
        "w_enc" => p.w_enc = f(),
        "enc_knn_share" => p.enc_knn_share = f(),
        "enc_temp" => p.enc_temp = f(),
        "enc_lr_share" => p.enc_lr_share = f(),
        "enc_lr_epochs" => p.enc_lr_epochs = f() as usize,
        "enc_answer_weight" => p.enc_answer_weight = f(),
        "calib_folds" => p.calib_folds = f() as usize,
        "calib_full_max" => p.calib_full_max = f() as usize,
        "calib_margin_max" => p.calib_margin_max = f(),
        "calib_out_share" => p.calib_out_share = f(),
        g if g.starts_with("g") => {
            let i: usize = g[1..].parse().expect("g0..g6");
            p.group_weight[i] = f();
        }
        _ => panic!("unknown parameter {k}"),
    }
}

fn fmt(x: Option<f64>) -> String {
    x.map_or("null".into(), |v| format!("{v:.4}"))
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn main() {
    let mut faqs = None;
    let mut queries = None;
    let mut folds = 5usize;
    let mut params = Params::default();
    let mut use_signals = true;
    let mut show_errors = false;
    let mut dump: Option<String> = None;
    let mut lexical = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--faqs" => faqs = args.next(),
            "--queries" => queries = args.next(),
            "--cv" => folds = args.next().expect("--cv K").parse().expect("K"),
            "--set" => set_param(&mut params, &args.next().expect("--set name=value")),
            "--no-signals" => use_signals = false,
            "--errors" => show_errors = true,
            "--dump" => dump = args.next(),
            "--lexical" => lexical = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let faqs = faqs.expect("--faqs FILE");
    let catalog = FaqCatalog::from_json(&std::fs::read_to_string(&faqs).expect("read faqs"))
        .expect("valid catalog");
    let n_examples: usize = catalog.faqs.iter().map(|f| f.all_questions().count()).sum();

    // With the model files present the index ranks by meaning too, as in the product.
    let encoder = if lexical {
        None
    } else {
        handoff_faq::shared_encoder()
    };
    let build = |c: &FaqCatalog| match &encoder {
        Some(e) => FaqIndex::build_with_encoder(c, params.clone(), e.clone()),
        None => FaqIndex::build_with(c, params.clone()),
    };
    let t0 = Instant::now();
    let index = build(&catalog);
    let build_ms = t0.elapsed().as_secs_f64() * 1e3;
    println!(
        "catalog {faqs}: {} faqs, {n_examples} examples; build {build_ms:.0} ms; encoder {}; answer_min {:.3} margin {:.3}; {:?}",
        catalog.faqs.len(),
        index.has_encoder(),
        index.answer_min(),
        index.answer_margin(),
        index.calibration()
    );

    if let Some(q) = &queries {
        let text = std::fs::read_to_string(q).expect("read queries");
        let (mut n, mut faq_n, mut faq_ok, mut faq_forced, mut wrong) = (0, 0, 0, 0, 0);
        let (mut ho_n, mut ho_ok, mut false_ho, mut none_n, mut none_ok) = (0, 0, 0, 0, 0);
        let mut decide_ns = 0u128;
        let mut dump_out = String::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("jsonl");
            let t = v["text"].as_str().expect("text");
            let expect = v["expect"].as_str().expect("expect");
            n += 1;
            let t1 = Instant::now();
            let (a, forced) = act(&index, t, use_signals);
            decide_ns += t1.elapsed().as_nanos();
            if dump.is_some() {
                let r = index.rank(t, 2);
                let s1 = r.first().map_or(0.0, |x| x.score);
                let s2 = r.get(1).map_or(0.0, |x| x.score);
                let kind = if expect.starts_with("faq:") {
                    if forced.as_deref() == expect.strip_prefix("faq:") {
                        "ok"
                    } else {
                        "bad"
                    }
                } else {
                    expect
                };
                let sig = a == Act::Handoff;
                dump_out.push_str(&format!("{kind}\t{s1}\t{s2}\t{sig}\n"));
            }
            let answered = match &a {
                Act::Answer(id) => Some(id.as_str()),
                _ => None,
            };
            let mut bad = false;
            if let Some(id) = expect.strip_prefix("faq:") {
                faq_n += 1;
                if answered == Some(id) {
                    faq_ok += 1;
                } else {
                    bad = true;
                }
                if forced.as_deref() == Some(id) {
                    faq_forced += 1;
                }
                if answered.is_some_and(|a| a != id) {
                    wrong += 1;
                }
                if a == Act::Handoff {
                    false_ho += 1;
                }
            } else if expect == "handoff" {
                ho_n += 1;
                if a == Act::Handoff {
                    ho_ok += 1;
                } else {
                    bad = true;
                }
                if answered.is_some() {
                    wrong += 1;
                }
            } else {
                none_n += 1;
                if answered.is_none() {
                    none_ok += 1;
                } else {
                    wrong += 1;
                    bad = true;
                }
            }
            if show_errors && bad {
                let r = index.rank(t, 2);
                let s1 = r.first().map_or(0.0, |x| x.score);
                let s2 = r.get(1).map_or(0.0, |x| x.score);
                println!("  MISS expect={expect:<28} got={a:?} forced={forced:?} top={s1:.3} margin={:.3}  {t}", s1 - s2);
            }
        }
        println!(
            "queries {q}: faq_top1 {} faq_top1_forced {} wrong_answer_rate {} handoff_recall {} \
             false_handoff_rate {} none_ok {} n {n}",
            fmt(ratio(faq_ok, faq_n)),
            fmt(ratio(faq_forced, faq_n)),
            fmt(ratio(wrong, n)),
            fmt(ratio(ho_ok, ho_n)),
            fmt(ratio(false_ho, faq_n)),
            fmt(ratio(none_ok, none_n)),
        );
        if let Some(d) = &dump {
            std::fs::write(d, &dump_out).expect("write dump");
        }
        println!(
            "timing: mean rank+decide+signals {:.1} us per message",
            decide_ns as f64 / n.max(1) as f64 / 1e3
        );
    }

    if folds >= 2 {
        // Stratified k-fold over each FAQ's example questions (position mod k).
        let (mut total, mut forced_ok, mut answered, mut answered_ok) = (0, 0, 0, 0);
        for fold in 0..folds {
            let mut train = catalog.clone();
            let mut held: Vec<(String, String)> = Vec::new();
            for faq in &mut train.faqs {
                let all: Vec<(String, String)> = faq
                    .questions
                    .iter()
                    .flat_map(|(l, qs)| qs.iter().map(move |q| (l.clone(), q.clone())))
                    .collect();
                if all.len() < 2 {
                    continue;
                }
                faq.questions.clear();
                for (i, (lang, q)) in all.into_iter().enumerate() {
                    if i % folds == fold {
                        held.push((faq.id.clone(), q));
                    } else {
                        faq.questions.entry(lang).or_default().push(q);
                    }
                }
            }
            let idx = build(&train);
            for (id, q) in held {
                total += 1;
                let ranked = idx.rank(&q, 3);
                if ranked.first().is_some_and(|r| r.faq_id == id) {
                    forced_ok += 1;
                }
                if let FaqDecision::Answer { faq_id, .. } = idx.decide_ranked(ranked) {
                    answered += 1;
                    if faq_id == id {
                        answered_ok += 1;
                    }
                }
            }
        }
        println!(
            "cv {folds}-fold over catalog examples: top1_forced {} answered {} answer_precision {} n {total}",
            fmt(ratio(forced_ok, total)),
            fmt(ratio(answered, total)),
            fmt(ratio(answered_ok, answered)),
        );
    }
}
