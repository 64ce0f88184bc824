//! The scorer's error type.

/// What can go wrong while analysing.
#[derive(Debug, thiserror::Error)]
pub enum ScorerError {
    /// The evidence source or the verdict sink failed (the store says why).
    #[error("store: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The configuration is unusable (the message names the key).
    #[error("configuration: {0}")]
    Config(String),
}

impl ScorerError {
    /// Wraps any store error.
    pub fn store(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Store(Box::new(e))
    }
}

/// Result alias of this crate.
pub type Result<T, E = ScorerError> = std::result::Result<T, E>;
