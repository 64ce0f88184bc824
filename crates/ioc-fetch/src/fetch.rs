//! Downloading a blocklist: HTTP(S) with retries, conditional GET and size limits, or a
//! local file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A URL whose `Display`/`Debug` hide the query string, fragment and credentials (the
/// CERT's personal URL carries a secret token).
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedUrl(reqwest::Url);

impl RedactedUrl {
    /// Wraps a URL.
    pub fn new(url: reqwest::Url) -> Self {
        Self(url)
    }

    /// The full URL, secrets included: only for making the request.
    pub fn expose(&self) -> &reqwest::Url {
        &self.0
    }

    /// The URL with secrets replaced by `***`.
    pub fn redacted(&self) -> String {
        let mut u = self.0.clone();
        if !u.username().is_empty() {
            let _ = u.set_username("***");
        }
        if u.password().is_some() {
            let _ = u.set_password(Some("***"));
        }
        if u.query().is_some() {
            u.set_query(Some("***"));
        }
        if u.fragment().is_some() {
            u.set_fragment(Some("***"));
        }
        u.to_string()
    }
}

impl std::fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedactedUrl({})", self.redacted())
    }
}

/// Where a blocklist comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An `http://` or `https://` URL.
    Url(RedactedUrl),
    /// A local file.
    Path(PathBuf),
}

/// A source string that is neither a file path nor an HTTP(S) URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported blocklist source {0:?}: give an http(s):// URL or a file path")]
pub struct SourceError(String);

impl std::str::FromStr for Source {
    type Err = SourceError;

    /// `http://…`/`https://…` become URLs, `file://…` and anything without a scheme a
    /// path. Other schemes are refused (their text is not echoed beyond the scheme).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let url =
                reqwest::Url::parse(s).map_err(|e| SourceError(format!("invalid URL ({e})")))?;
            Ok(Source::Url(RedactedUrl(url)))
        } else if let Some(p) = s.strip_prefix("file://") {
            Ok(Source::Path(PathBuf::from(p)))
        } else if let Some((scheme, _)) = s.split_once("://") {
            Err(SourceError(format!("{scheme}://…")))
        } else {
            Ok(Source::Path(PathBuf::from(s)))
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Url(u) => u.fmt(f),
            Source::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Validators from an earlier download, for a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// The `ETag` the server sent.
    pub etag: Option<String>,
    /// The `Last-Modified` the server sent.
    pub last_modified: Option<String>,
}

/// How to download.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Timeout of one whole attempt (connect, headers and body). Default 60 s.
    pub timeout: Duration,
    /// Connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Retries after the first attempt on network errors, timeouts, 429 and 5xx. Default 3.
    pub retries: u32,
    /// Wait before the first retry; doubles each time. Default 2 s.
    pub backoff: Duration,
    /// Largest body accepted, after decompression. Default 64 MiB.
    pub max_bytes: u64,
    /// An extra PEM CA certificate (or bundle) to trust besides the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// Validators of the last good download; an unchanged list is then not downloaded.
    pub validators: Validators,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_secs(2),
            max_bytes: 64 * 1024 * 1024,
            ca_file: None,
            validators: Validators::default(),
        }
    }
}

/// A downloaded (or read) body with its metadata.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The body, decompressed. Empty when `not_modified`.
    pub body: Vec<u8>,
    /// The server answered 304: the list is unchanged since `validators`.
    pub not_modified: bool,
    /// Validators to send next time.
    pub validators: Validators,
    /// Lower-case hex SHA-256 of `body`.
    pub sha256: String,
    /// HTTP status (None for files).
    pub status: Option<u16>,
    /// Attempts made (1 when the first succeeded).
    pub attempts: u32,
}

/// Why a download failed. No variant's `Display` shows a URL's query or credentials.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The HTTP client could not be built (for example a bad CA file).
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// The extra CA file could not be read or parsed.
    #[error("cannot use CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The server answered with an error status that is not retried, or still failed
    /// after the retries.
    #[error("{url} answered HTTP {status} (after {attempts} attempt(s))")]
    Status {
        /// The URL, redacted.
        url: RedactedUrl,
        /// The status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// Network error or timeout, after the retries.
    #[error("download of {url} failed after {attempts} attempt(s): {reason}")]
    Network {
        /// The URL, redacted.
        url: RedactedUrl,
        /// Attempts made.
        attempts: u32,
        /// The last error (URL removed).
        reason: String,
        /// Whether the last error was a timeout.
        timeout: bool,
    },
    /// The body is larger than the limit.
    #[error("{source_name} is larger than the {limit}-byte limit")]
    TooLarge {
        /// The source, redacted.
        source_name: String,
        /// The limit.
        limit: u64,
    },
    /// A local file could not be read.
    #[error("cannot read {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// A gzip body could not be decompressed.
    #[error("{source_name}: invalid gzip body: {reason}")]
    Gzip {
        /// The source, redacted.
        source_name: String,
        /// What went wrong.
        reason: String,
    },
}

impl FetchError {
    /// Whether this error was a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, FetchError::Network { timeout: true, .. })
    }
}

/// Builds a `reqwest::Client`, installing the rustls `ring` crypto provider first
/// (once per process). Every client of this crate is built here.
pub fn http_client(opts: &FetchOptions) -> Result<reqwest::Client, FetchError> {
    static PROVIDER: OnceLock<()> = OnceLock::new();
    // This workspace mandates the ring provider (shared/docs/crates.md §5), which
    // rustls 0.23.4x marks deprecated for lack of post-quantum key exchange.
    #[allow(deprecated)]
    PROVIDER.get_or_init(|| {
        // Err means another provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let mut builder = reqwest::Client::builder()
        .timeout(opts.timeout)
        .connect_timeout(opts.connect_timeout)
        .user_agent(concat!("iocflow-ioc-fetch/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &opts.ca_file {
        let pem = std::fs::read(path).map_err(|e| FetchError::CaFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| FetchError::CaFile {
                path: path.clone(),
                reason: e.without_url().to_string(),
            })?;
        if certs.is_empty() {
            return Err(FetchError::CaFile {
                path: path.clone(),
                reason: "no PEM certificate found".to_string(),
            });
        }
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder
        .build()
        .map_err(|e| FetchError::Client(error_chain(e)))
}

/// The error and its causes, with any URL removed.
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Decompresses a body that is itself a gzip file (magic `1f 8b`), within `max` bytes.
fn maybe_gunzip(body: Vec<u8>, max: u64, name: &str) -> Result<Vec<u8>, FetchError> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Ok(body);
    }
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(&body[..]).take(max + 1);
    dec.read_to_end(&mut out).map_err(|e| FetchError::Gzip {
        source_name: name.to_string(),
        reason: e.to_string(),
    })?;
    if out.len() as u64 > max {
        return Err(FetchError::TooLarge {
            source_name: name.to_string(),
            limit: max,
        });
    }
    Ok(out)
}

/// Reads a local file (gzip files are decompressed).
fn read_file(path: &Path, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| FetchError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let mut body = Vec::new();
    file.take(opts.max_bytes + 1)
        .read_to_end(&mut body)
        .map_err(|error| FetchError::Io {
            path: path.to_path_buf(),
            error,
        })?;
    if body.len() as u64 > opts.max_bytes {
        return Err(FetchError::TooLarge {
            source_name: name,
            limit: opts.max_bytes,
        });
    }
    let body = maybe_gunzip(body, opts.max_bytes, &name)?;
    Ok(Fetched {
        sha256: sha256_hex(&body),
        body,
        not_modified: false,
        validators: Validators::default(),
        status: None,
        attempts: 1,
    })
}

/// Fetches a blocklist from a URL or a file.
///
/// HTTP: a conditional GET with `opts.validators`; 304 gives `not_modified` and an
/// empty body; network errors, timeouts, 429 and 5xx are retried `opts.retries` times
/// with doubling backoff; other statuses fail at once. Bodies are decompressed (gzip
/// transfer encoding or a gzip file) and limited to `opts.max_bytes`.
pub async fn fetch(source: &Source, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    match source {
        Source::Path(p) => read_file(p, opts),
        Source::Url(url) => {
            let client = http_client(opts)?;
            fetch_url(&client, url, opts).await
        }
    }
}

enum Attempt {
    Done(Fetched),
    Retry(FetchError),
    Fail(FetchError),
}

/// [`fetch`] for a URL with a client built by [`http_client`].
pub async fn fetch_url(
    client: &reqwest::Client,
    url: &RedactedUrl,
    opts: &FetchOptions,
) -> Result<Fetched, FetchError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match fetch_once(client, url, opts, attempt).await {
            Attempt::Done(f) => return Ok(f),
            Attempt::Fail(e) => return Err(e),
            Attempt::Retry(e) => {
                if attempt > opts.retries {
                    return Err(e);
                }
                let wait = opts.backoff.saturating_mul(1 << (attempt - 1).min(16));
                tracing::warn!(url = %url, attempt, error = %e, wait_ms = wait.as_millis() as u64, "blocklist download failed, retrying");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

async fn fetch_once(
    client: &reqwest::Client,
    url: &RedactedUrl,
    opts: &FetchOptions,
    attempt: u32,
) -> Attempt {
    let mut req = client.get(url.expose().clone());
    if let Some(etag) = &opts.validators.etag {
        req = req.header(IF_NONE_MATCH, etag);
    }
    if let Some(lm) = &opts.validators.last_modified {
        req = req.header(IF_MODIFIED_SINCE, lm);
    }
    let network = |e: reqwest::Error| FetchError::Network {
        url: url.clone(),
        attempts: attempt,
        timeout: e.is_timeout(),
        reason: error_chain(e),
    };
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Attempt::Retry(network(e)),
    };
    let status = resp.status();
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let validators = Validators {
        etag: header(ETAG),
        last_modified: header(LAST_MODIFIED),
    };
    if status == StatusCode::NOT_MODIFIED {
        let validators = Validators {
            etag: validators.etag.or_else(|| opts.validators.etag.clone()),
            last_modified: validators
                .last_modified
                .or_else(|| opts.validators.last_modified.clone()),
        };
        return Attempt::Done(Fetched {
            body: Vec::new(),
            not_modified: true,
            validators,
            sha256: sha256_hex(b""),
            status: Some(status.as_u16()),
            attempts: attempt,
        });
    }
    if !status.is_success() {
        let err = FetchError::Status {
            url: url.clone(),
            status: status.as_u16(),
            attempts: attempt,
        };
        return if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Attempt::Retry(err)
        } else {
            Attempt::Fail(err)
        };
    }
    let too_large = || FetchError::TooLarge {
        source_name: url.redacted(),
        limit: opts.max_bytes,
    };
    // Content-Length is the compressed size when the body is gzip-encoded; either way a
    // larger declared length cannot fit.
    let declared = header(CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > opts.max_bytes) {
        return Attempt::Fail(too_large());
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                if (body.len() + c.len()) as u64 > opts.max_bytes {
                    return Attempt::Fail(too_large());
                }
                body.extend_from_slice(&c);
            }
            Err(e) => return Attempt::Retry(network(e)),
        }
    }
    let body = match maybe_gunzip(body, opts.max_bytes, &url.redacted()) {
        Ok(b) => b,
        Err(e) => return Attempt::Fail(e),
    };
    Attempt::Done(Fetched {
        sha256: sha256_hex(&body),
        body,
        not_modified: false,
        validators,
        status: Some(status.as_u16()),
        attempts: attempt,
    })
}
