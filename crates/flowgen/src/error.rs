//! Errors of the generator.

/// What can go wrong when generating or writing a synthetic day.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// The configuration cannot produce a backbone (the message says which field).
    #[error("invalid generator configuration: {0}")]
    InvalidConfig(String),
    /// A day index past the configured number of days.
    #[error("day index {day} is out of range: the run has {days} days")]
    DayOutOfRange {
        /// The requested index.
        day: u32,
        /// Configured days.
        days: u32,
    },
    /// Writing a file or stream failed.
    #[error("writing {what}: {source}")]
    Io {
        /// What was being written.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Serialising the ground truth failed.
    #[error("serialising the ground truth: {0}")]
    Json(#[from] serde_json::Error),
}
