//! Errors of the file source.

use std::io;

/// What can stop a scan (a malformed line never does: it is counted in the result).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// An input could not be opened or its first bytes read.
    #[error("cannot open {file}: {source}")]
    Open {
        /// The input, as given.
        file: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The content of an input matches no known format and no `--format` was given.
    #[error(
        "{file}: unknown flow format (expected JSON Lines, Elasticsearch hits, nfdump JSON or CSV, or Argus binetflow); name it with --format"
    )]
    UnknownFormat {
        /// The input, as given.
        file: String,
    },
    /// A `--format` name that is not a format.
    #[error(
        "unknown format name {0:?} (expected json, es-hits, nfdump-json, nfdump-csv or binetflow)"
    )]
    UnknownFormatName(String),
    /// A CSV input whose header lacks a column the format needs.
    #[error("{file}: the header has no {column:?} column")]
    MissingColumn {
        /// The input, as given.
        file: String,
        /// The column looked for.
        column: &'static str,
    },
}
