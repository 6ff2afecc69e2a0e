use std::path::PathBuf;

/// Why the encoder could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error(
        "model file {path} is missing or unreadable ({source}); \
         run functions/encoder/fetch-model.sh [DIR] or set HANDOFF_MODEL_DIR"
    )]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model file {path} is malformed: {reason}")]
    Malformed { path: PathBuf, reason: String },
}

impl EncoderError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn malformed(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
