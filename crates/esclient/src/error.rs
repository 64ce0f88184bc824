//! The one error type of the crate.

use std::fmt;

/// Everything that can go wrong talking to Elasticsearch or OpenSearch.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with a non-success status (after any retries).
    ///
    /// `error_type` and `reason` come from Elasticsearch's error envelope
    /// (`{"error": {"type": …, "reason": …, "index": …}, "status": …}`) when the body has
    /// one; a plain-string `error` lands in `reason`; a body that is not JSON at all (413,
    /// proxy HTML, OpenSearch's `Unauthorized`) leaves `error_type` empty and keeps the
    /// first 200 characters of the text in `reason`.
    #[error("{}", ApiDisplay(self))]
    Api {
        /// HTTP status (or the per-item `status` of a `_msearch`/`_bulk` item).
        status: u16,
        /// Elasticsearch's `error.type`, e.g. `index_not_found_exception`.
        error_type: Option<String>,
        /// Elasticsearch's `error.reason`.
        reason: Option<String>,
        /// The index the error is about (`error.index`), when the server names one.
        index: Option<String>,
        /// For 429 circuit breakers: `error.durability` (`TRANSIENT` / `PERMANENT`).
        durability: Option<String>,
    },
    /// The request never got an answer: connection refused/reset, TLS failure, timeout.
    #[error("request to {node} failed: {source}")]
    Transport {
        /// The node URL the last attempt went to.
        node: String,
        /// The underlying client error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered 2xx with a body that does not have the expected shape.
    #[error("unexpected response from {context}: {source}")]
    Decode {
        /// Which call was being decoded (e.g. `_search`, `_bulk`).
        context: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The server answered 2xx but the answer breaks the protocol (e.g. a `_msearch`
    /// with fewer responses than requests, a search that timed out).
    #[error("unexpected response from {context}: {detail}")]
    Protocol {
        /// Which call.
        context: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The configuration is unusable (bad URL, unreadable CA file, invalid option).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// The dead-letter sink failed to store a rejected document.
    #[error("dead-letter sink failed: {0}")]
    DeadLetter(#[source] std::io::Error),
}

struct ApiDisplay<'a>(&'a Error);

impl fmt::Display for ApiDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Error::Api {
            status,
            error_type,
            reason,
            index,
            ..
        } = self.0
        {
            write!(f, "HTTP {status}")?;
            if let Some(t) = error_type {
                write!(f, " {t}")?;
            }
            if let Some(r) = reason {
                write!(f, ": {r}")?;
            }
            if let Some(i) = index {
                write!(f, " (index {i})")?;
            }
        }
        Ok(())
    }
}

impl Error {
    /// The HTTP (or item) status of an [`Error::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Elasticsearch's `error.type`, if any.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Error::Api { error_type, .. } => error_type.as_deref(),
            _ => None,
        }
    }

    /// True for a 404 `index_not_found_exception` (a missing daily index).
    pub fn is_index_not_found(&self) -> bool {
        self.error_type() == Some("index_not_found_exception")
    }

    /// True when the same request may succeed later: 429 (except a `PERMANENT` circuit
    /// breaker), 502, 503, 504 and transport failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api {
                status, durability, ..
            } => match status {
                429 => durability.as_deref() != Some("PERMANENT"),
                502..=504 => true,
                _ => false,
            },
            Error::Transport { .. } => true,
            _ => false,
        }
    }

    /// Build an [`Error::Api`] from a status and a response body of any shape.
    pub(crate) fn from_response(status: u16, body: &[u8]) -> Error {
        #[derive(serde::Deserialize)]
        struct Envelope {
            error: Option<serde_json::Value>,
        }
        let mut out = Error::Api {
            status,
            error_type: None,
            reason: None,
            index: None,
            durability: None,
        };
        let Error::Api {
            error_type,
            reason,
            index,
            durability,
            ..
        } = &mut out
        else {
            unreachable!("constructed as Api just above")
        };
        match serde_json::from_slice::<Envelope>(body) {
            Ok(Envelope {
                error: Some(serde_json::Value::Object(e)),
            }) => {
                let s = |k: &str| e.get(k).and_then(|v| v.as_str()).map(str::to_owned);
                *error_type = s("type");
                *reason = s("reason");
                *index = s("index");
                *durability = s("durability");
            }
            Ok(Envelope {
                error: Some(serde_json::Value::String(text)),
            }) => *reason = Some(text),
            _ => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if !text.is_empty() {
                    *reason = Some(text.chars().take(200).collect());
                }
            }
        }
        out
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
