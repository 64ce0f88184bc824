//! The connection: nodes, auth, TLS, retries, and the server probe.

use crate::config::{Auth, ClientConfig, RetryConfig};
use crate::error::{Error, Result};
use reqwest::Method;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue,
};
use serde::Deserialize;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Which product answers on the other end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    /// Elasticsearch.
    Elasticsearch,
    /// OpenSearch (including compatibility mode, where the version is hidden).
    OpenSearch,
}

/// What `GET /` said about the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    /// Elasticsearch or OpenSearch.
    pub product: Product,
    /// `(major, minor)` from `version.number`.
    pub version: (u32, u32),
    /// OpenSearch with `compatibility.override_main_response_version`: the reported
    /// version (7.10.2) is not the real one.
    pub compat_mode: bool,
}

/// Which point-in-time API a server offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PitApi {
    /// `POST /{index}/_pit`, `DELETE /_pit` (ES ≥ 7.10).
    Elasticsearch,
    /// `POST /{index}/_search/point_in_time`, `DELETE /_search/point_in_time` (OS ≥ 2.4).
    OpenSearch,
}

impl ServerInfo {
    /// The PIT API this server has, or `None` (scroll only). OpenSearch in compatibility
    /// mode is assumed to have the OpenSearch API; [`crate::Client::scan`] falls back to
    /// scroll when opening it fails with a 4xx.
    pub fn pit_api(&self) -> Option<PitApi> {
        match self.product {
            Product::Elasticsearch if self.version >= (7, 10) => Some(PitApi::Elasticsearch),
            Product::OpenSearch if self.compat_mode || self.version >= (2, 4) => {
                Some(PitApi::OpenSearch)
            }
            _ => None,
        }
    }

    /// True where `index.translog.flush_threshold_size: 512mb` is the default and safe
    /// to set for a load (ES 7, ES ≤ 8.7, OpenSearch); ES ≥ 8.8 defaults to 10gb.
    pub fn translog_512mb_is_default(&self) -> bool {
        match self.product {
            Product::OpenSearch => true,
            Product::Elasticsearch => self.version < (8, 8),
        }
    }

    /// Parse the body of `GET /`.
    pub fn from_root(body: &[u8]) -> Result<ServerInfo> {
        #[derive(Deserialize)]
        struct Root {
            version: Ver,
            #[serde(default)]
            tagline: String,
        }
        #[derive(Deserialize)]
        struct Ver {
            number: String,
            distribution: Option<String>,
        }
        let root: Root = serde_json::from_slice(body).map_err(|source| Error::Decode {
            context: "GET /",
            source,
        })?;
        let mut parts = root.version.number.split(['.', '-']);
        let mut num = || parts.next().and_then(|p| p.parse::<u32>().ok());
        let (Some(major), minor) = (num(), num()) else {
            return Err(Error::Protocol {
                context: "GET /",
                detail: format!("unparsable version number {:?}", root.version.number),
            });
        };
        let version = (major, minor.unwrap_or(0));
        Ok(
            if root.version.distribution.as_deref() == Some("opensearch") {
                ServerInfo {
                    product: Product::OpenSearch,
                    version,
                    compat_mode: false,
                }
            } else if root.tagline.contains("OpenSearch") {
                ServerInfo {
                    product: Product::OpenSearch,
                    version,
                    compat_mode: true,
                }
            } else {
                ServerInfo {
                    product: Product::Elasticsearch,
                    version,
                    compat_mode: false,
                }
            },
        )
    }
}

struct Node {
    base: String,
    dead_until: Mutex<Option<Instant>>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    nodes: Vec<Node>,
    next: AtomicUsize,
    auth: Option<HeaderValue>,
    gzip: bool,
    pub(crate) retry: RetryConfig,
    cooldown: Duration,
    pub(crate) config: ClientConfig,
    server: OnceLock<ServerInfo>,
}

/// A request body.
pub(crate) enum Body {
    None,
    Json(Vec<u8>),
    Ndjson(Vec<u8>),
}

/// A 2xx (or accepted) answer's body bytes.
pub(crate) struct Answer {
    pub(crate) body: Vec<u8>,
}

/// The client. Cheap to clone (an `Arc` inside); share one per cluster.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field(
                "nodes",
                &self.inner.nodes.iter().map(|n| &n.base).collect::<Vec<_>>(),
            )
            .field("server", &self.inner.server.get())
            .finish_non_exhaustive()
    }
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A random number for backoff jitter (std's per-process random hash keys, no extra
/// dependency).
pub(crate) fn jitter_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// Backoff before retry number `attempt` (0-based): full jitter over
/// `min(cap, initial × 2^attempt)`.
pub(crate) fn backoff(retry: &RetryConfig, attempt: u32) -> Duration {
    let exp = retry
        .initial_backoff_ms
        .saturating_mul(1u64 << attempt.min(30))
        .min(retry.max_backoff_ms)
        .max(1);
    Duration::from_millis(exp / 2 + jitter_u64() % (exp / 2 + 1))
}

impl Client {
    /// Build a client. Installs the rustls `ring` provider once, loads the CA file,
    /// and checks the node URLs. Does not contact the server (see [`Client::probe`]).
    pub fn new(config: ClientConfig) -> Result<Client> {
        // The workspace's provider choice (shared/docs/crates.md); ring lacks post-quantum
        // key exchange, which is why rustls marks this deprecated.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        if config.nodes.is_empty() {
            return Err(Error::Config("no node URLs given".into()));
        }
        if config.concurrency == 0 {
            return Err(Error::Config("concurrency must be at least 1".into()));
        }
        let mut nodes = Vec::new();
        for url in &config.nodes {
            let parsed = reqwest::Url::parse(url)
                .map_err(|e| Error::Config(format!("node URL {url:?}: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Error::Config(format!(
                    "node URL {url:?}: scheme must be http or https"
                )));
            }
            nodes.push(Node {
                base: url.trim_end_matches('/').to_owned(),
                dead_until: Mutex::new(None),
            });
        }
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.request_timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(config.connect_timeout_secs.max(1)))
            .no_proxy();
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| Error::Config(format!("CA file {}: {e}", path.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::Config(format!("CA file {}: {e}", path.display())))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if config.danger_accept_invalid_certs {
            tracing::warn!("TLS certificate verification is OFF for the Elasticsearch client");
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let auth = match &config.auth {
            None => None,
            Some(Auth::Basic { user, password }) => Some(format!(
                "Basic {}",
                base64(format!("{user}:{}", password.expose()).as_bytes())
            )),
            Some(Auth::ApiKey { encoded }) => Some(format!("ApiKey {}", encoded.expose())),
            Some(Auth::ApiKeyPair { id, api_key }) => Some(format!(
                "ApiKey {}",
                base64(format!("{id}:{}", api_key.expose()).as_bytes())
            )),
        };
        let auth = match auth {
            None => None,
            Some(v) => {
                let mut h = HeaderValue::from_str(&v)
                    .map_err(|_| Error::Config("credentials contain invalid characters".into()))?;
                h.set_sensitive(true);
                Some(h)
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                nodes,
                next: AtomicUsize::new(0),
                auth,
                gzip: config.gzip_requests,
                retry: config.retry.clone(),
                cooldown: Duration::from_secs(config.dead_node_cooldown_secs),
                config,
                server: OnceLock::new(),
            }),
        })
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// `GET /` once and remember what the server is. Later calls return the cached value.
    pub async fn probe(&self) -> Result<ServerInfo> {
        if let Some(info) = self.inner.server.get() {
            return Ok(info.clone());
        }
        let answer = self.send(Method::GET, "/", &[], Body::None).await?;
        let info = ServerInfo::from_root(&answer.body)?;
        tracing::debug!(?info, "probed search server");
        Ok(self.inner.server.get_or_init(|| info).clone())
    }

    /// The server info, if [`Client::probe`] has run.
    pub fn server_info(&self) -> Option<&ServerInfo> {
        self.inner.server.get()
    }

    fn pick_node(&self) -> &Node {
        let n = self.inner.nodes.len();
        let start = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        for i in 0..n {
            let node = &self.inner.nodes[(start + i) % n];
            let dead = node
                .dead_until
                .lock()
                .map(|d| d.is_some_and(|t| t > now))
                .unwrap_or(false);
            if !dead {
                return node;
            }
        }
        &self.inner.nodes[start % n]
    }

    /// Send one request with retries on 429/502/503/504 and connection errors. Returns
    /// 2xx answers; every other status becomes [`Error::Api`]. `ok_statuses` lists
    /// extra statuses to hand back as answers (e.g. 404 on `DELETE /_pit`).
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Body,
    ) -> Result<Answer> {
        self.send_accepting(method, path, query, body, &[]).await
    }

    pub(crate) async fn send_accepting(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Body,
        ok_statuses: &[u16],
    ) -> Result<Answer> {
        let (content_type, raw) = match body {
            Body::None => (None, None),
            Body::Json(b) => (Some("application/json"), Some(b)),
            Body::Ndjson(b) => (Some("application/x-ndjson"), Some(b)),
        };
        let payload = match (&raw, self.inner.gzip) {
            (Some(b), true) => Some(gzip(b)),
            (Some(b), false) => Some(b.clone()),
            (None, _) => None,
        };
        let mut attempt = 0u32;
        loop {
            let node = self.pick_node();
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
            if let Some(ct) = content_type {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            }
            if payload.is_some() && self.inner.gzip {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            if let Some(a) = &self.inner.auth {
                headers.insert(AUTHORIZATION, a.clone());
            }
            let mut req = self
                .inner
                .http
                .request(method.clone(), format!("{}{}", node.base, path))
                .headers(headers);
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(p) = &payload {
                req = req.body(p.clone());
            }
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.bytes().await {
                        Ok(body)
                            if (200..300).contains(&status) || ok_statuses.contains(&status) =>
                        {
                            return Ok(Answer {
                                body: body.to_vec(),
                            });
                        }
                        Ok(body) => Error::from_response(status, &body),
                        Err(source) => Error::Transport {
                            node: node.base.clone(),
                            source,
                        },
                    }
                }
                Err(source) => {
                    if source.is_connect()
                        && let Ok(mut d) = node.dead_until.lock()
                    {
                        *d = Some(Instant::now() + self.inner.cooldown);
                    }
                    Error::Transport {
                        node: node.base.clone(),
                        source,
                    }
                }
            };
            if !outcome.is_retryable() || attempt >= self.inner.retry.max_retries {
                return Err(outcome);
            }
            let wait = backoff(&self.inner.retry, attempt);
            tracing::debug!(%path, attempt, ?wait, error = %outcome, "retrying request");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    enc.write_all(data).expect("gzip into a Vec");
    enc.finish().expect("gzip into a Vec")
}

/// Percent-encode one path segment (a document id): everything but unreserved
/// characters and `:` (IPv6 ids stay readable).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Join index names for a path (`a,b`); commas and wildcards are kept literally.
pub(crate) fn index_path(indices: &[String]) -> String {
    indices.join(",")
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    context: &'static str,
    body: &[u8],
) -> Result<T> {
    serde_json::from_slice(body).map_err(|source| Error::Decode { context, source })
}

pub(crate) fn to_json(value: &impl serde::Serialize) -> Vec<u8> {
    // Serialising our own request types (maps with string keys) cannot fail.
    serde_json::to_vec(value).expect("request types serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(
            base64(b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"),
            "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
        );
    }

    #[test]
    fn backoff_stays_under_the_cap() {
        let r = RetryConfig {
            max_retries: 8,
            initial_backoff_ms: 500,
            max_backoff_ms: 60_000,
        };
        for a in 0..40 {
            assert!(backoff(&r, a) <= Duration::from_millis(60_000));
        }
        assert!(backoff(&r, 0) <= Duration::from_millis(500));
    }
}
