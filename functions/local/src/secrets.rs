//! Local secrets: from the environment when set, else generated once and kept in
//! the data directory (mode 0600), so tokens survive restarts.

use std::path::Path;

use serde::{Deserialize, Serialize};

use handoff_core::auth::Secret;

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    token_secret: String,
    jwt_secret: String,
}

pub struct LocalSecrets {
    pub token_secret: Secret,
    pub jwt_secret: Secret,
}

fn random_hex() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Creates the data directory readable by this user only (kept as is if it exists).
pub fn create_data_dir(data: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(data)
}

pub fn load_or_create(data: &Path) -> std::io::Result<LocalSecrets> {
    create_data_dir(data)?;
    let file = data.join("secrets.json");
    let stored: Stored = match std::fs::read_to_string(&file) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| std::io::Error::other(format!("{}: {e}", file.display())))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let s = Stored {
                token_secret: random_hex(),
                jwt_secret: random_hex(),
            };
            let text = serde_json::to_string_pretty(&s).map_err(std::io::Error::other)?;
            write_private(&file, &text)?;
            s
        }
        Err(e) => return Err(e),
    };
    let pick = |env: &str, stored: String| {
        std::env::var(env)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or(stored)
    };
    let token = pick("HANDOFF_TOKEN_SECRET", stored.token_secret);
    let jwt = pick("HANDOFF_JWT_SECRET", stored.jwt_secret);
    Ok(LocalSecrets {
        token_secret: Secret::new(token.into_bytes())
            .map_err(|e| std::io::Error::other(format!("HANDOFF_TOKEN_SECRET: {e}")))?,
        jwt_secret: Secret::new(jwt.into_bytes())
            .map_err(|e| std::io::Error::other(format!("HANDOFF_JWT_SECRET: {e}")))?,
    })
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(text.as_bytes())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, text)
    }
}
