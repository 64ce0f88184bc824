//! Connection settings, readable from TOML.

use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;

/// A secret string (password, API key). Its `Debug` prints `"***"`, never the value.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret the caller read from the environment or a file.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret value, for building the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// How to authenticate.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// `Authorization: Basic base64(user:password)` (Elasticsearch and OpenSearch).
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: ApiKey <encoded>` (Elasticsearch only): `encoded` is the
    /// ready-made value from `POST /_security/api_key`, i.e. `base64(id:api_key)`.
    ApiKey {
        /// The encoded key.
        encoded: Secret,
    },
    /// `Authorization: ApiKey base64(id:api_key)` from the key's two parts.
    ApiKeyPair {
        /// Key id.
        id: String,
        /// Key secret.
        api_key: Secret,
    },
}

/// Retry policy for whole requests (429/502/503/504, connection errors) and for
/// retryable bulk / msearch items: exponential backoff with full jitter.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries after the first attempt (default 7, so 8 tries).
    pub max_retries: u32,
    /// First backoff in milliseconds (default 500); doubled each retry.
    pub initial_backoff_ms: u64,
    /// Backoff cap in milliseconds (default 60,000).
    pub max_backoff_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 7,
            initial_backoff_ms: 500,
            max_backoff_ms: 60_000,
        }
    }
}

/// Everything [`crate::Client::new`] needs. Deserialisable, so the CLI reads it from
/// TOML; secrets are filled in by the caller from the environment.
///
/// ```
/// let cfg: esclient::ClientConfig = serde_json::from_str(
///     r#"{"nodes": ["https://es1:9200", "https://es2:9200"], "ca_file": "/etc/es/http_ca.crt",
///         "auth": {"kind": "basic", "user": "iocflow", "password": "from-env"}}"#).unwrap();
/// assert_eq!(cfg.request_timeout_secs, 60);
/// assert!(!format!("{cfg:?}").contains("from-env"));
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Node base URLs, used round-robin (default `http://127.0.0.1:9200`).
    pub nodes: Vec<String>,
    /// Credentials, if the cluster has security on.
    pub auth: Option<Auth>,
    /// Extra PEM CA certificate(s) to trust (e.g. ES 8's `http_ca.crt`). Certificate and
    /// hostname verification stay on.
    pub ca_file: Option<PathBuf>,
    /// Explicit opt-out of certificate verification (logged as a warning). Default off.
    pub danger_accept_invalid_certs: bool,
    /// Whole-request timeout in seconds (default 60).
    pub request_timeout_secs: u64,
    /// Connect timeout in seconds (default 10).
    pub connect_timeout_secs: u64,
    /// Gzip request bodies (`Content-Encoding: gzip`). Default off.
    pub gzip_requests: bool,
    /// Retry policy.
    pub retry: RetryConfig,
    /// Seconds a node that failed to connect is skipped (default 30).
    pub dead_node_cooldown_secs: u64,
    /// Requests in flight at once for batched work (lookups, bulk). Default 2.
    pub concurrency: usize,
    /// `max_concurrent_searches` sent with every `_msearch` (default 2).
    pub msearch_max_concurrent_searches: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            nodes: vec!["http://127.0.0.1:9200".to_owned()],
            auth: None,
            ca_file: None,
            danger_accept_invalid_certs: false,
            request_timeout_secs: 60,
            connect_timeout_secs: 10,
            gzip_requests: false,
            retry: RetryConfig::default(),
            dead_node_cooldown_secs: 30,
            concurrency: 2,
            msearch_max_concurrent_searches: 2,
        }
    }
}

impl ClientConfig {
    /// A config for the given nodes with every other setting at its default.
    pub fn for_nodes<S: Into<String>>(nodes: impl IntoIterator<Item = S>) -> Self {
        ClientConfig {
            nodes: nodes.into_iter().map(Into::into).collect(),
            ..ClientConfig::default()
        }
    }
}
