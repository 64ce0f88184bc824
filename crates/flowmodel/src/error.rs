//! The one error type of this crate.

/// Why a flow document could not become a [`crate::RawFlow`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// The document is not a JSON object (or not JSON at all).
    #[error("not a JSON flow document: {0}")]
    Json(String),
    /// A required field is absent under every path the field map names.
    #[error("missing field `{field}` (looked for {tried})")]
    MissingField {
        /// The logical field (`src_addr`, `dst_addr`, …).
        field: &'static str,
        /// The document paths tried, comma-separated.
        tried: String,
    },
    /// A field is present but its value cannot be used.
    #[error("invalid field `{path}`: {reason}")]
    InvalidField {
        /// The document path that held the value.
        path: String,
        /// What was wrong with it.
        reason: String,
    },
}
