//! `status` changes only inside the state machine (functions/core/src/conversation.rs):
//! no other Rust file in the workspace assigns it.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !matches!(name.to_str(), Some("target" | "node_modules" | ".git")) {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether the line assigns a `.status` field (`x.status = …`, not `==`).
fn assigns_status(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices(".status").any(|(i, m)| {
        let rest = code[i + m.len()..].trim_start();
        rest.starts_with('=') && !rest.starts_with("==")
    })
}

#[test]
fn status_is_assigned_only_in_the_state_machine() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    rust_files(&root.join("functions"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    assert!(files.len() > 20, "found the workspace's sources");
    let mut offenders = Vec::new();
    for file in &files {
        if file.ends_with("core/src/conversation.rs")
            || file.ends_with("core/tests/state_machine.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if assigns_status(line) {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "status assigned outside Conversation's transitions:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_scan_sees_assignments() {
    assert!(assigns_status("    conv.status = Status::Bot;"));
    assert!(assigns_status("c.status=s"));
    assert!(!assigns_status("if c.status == Status::Bot {"));
    assert!(!assigns_status("let status = c.status;"));
    assert!(!assigns_status("// c.status = x"));
}
