//! Blocklist ingestion: fetch a CERT or community blocklist from a URL or a file, parse
//! every common format (plain, CIDR, Spamhaus DROP, abuse.ch CSV, FireHOL sets, IPv6),
//! apply hygiene rules, keep dated snapshots with diffs, and build the matcher that flow
//! processing uses to ask "is this address an IoC?".
//!
//! # Brief overview
//!
//! - [`parse_blocklist`] turns a body into a [`ParsedList`]: the usable entries (merged,
//!   sorted `ipnet::IpNet`s), plus every [`BadLine`], [`Unsupported`] host name,
//!   [`SetAside`] entry (private/reserved space, too wide) and [`AllowListed`] removal.
//!   [`ParsedList::report`] is the JSON summary the CLI prints. [`ParseOptions`] holds
//!   the hygiene limits and the allow-list.
//! - [`fetch`] downloads a [`Source`] (URL or path) with timeouts, retries with backoff,
//!   conditional GET, gzip and a size limit ([`FetchOptions`]) and returns a [`Fetched`]
//!   body. URLs are wrapped in [`RedactedUrl`] so the secret token never reaches an
//!   error message or a log line. [`http_client`] is the one place clients are built.
//! - [`SnapshotStore`] keeps one directory per day (`YYYY-MM-DD`) with the raw body,
//!   its SHA-256 and the parsed list, and diffs two days ([`ListDiff`]).
//! - [`acquire`] is the daily call: fetch, parse, snapshot, diff against the previous
//!   day, or fall back to the newest earlier snapshot ([`Acquired::fallback`]).
//! - [`Matcher`] answers `lookup(ip) -> Option<IpNet>` (longest prefix) and implements
//!   [`flowmodel::IocSet`].
//!
//! # Example
//!
//! ```
//! use ioc_fetch::{Matcher, ParseOptions, parse_blocklist};
//!
//! let body = b"\xEF\xBB\xBF; Spamhaus-style list\r\n\
//!     1.10.16.0/20 ; SBL256894\r\n\
//!     198.51.100.7\r\n\
//!     10.0.0.0/8 ; private space must not make the campus a suspect\r\n\
//!     203.0.113.300\r\n\
//!     evil.example.com\r\n\
//!     1.10.17.5\r\n\
//!     8.8.8.8";
//! let opts = ParseOptions::default().with_allow_list_bytes(b"8.8.8.8 # public resolver")?;
//! let list = parse_blocklist(body, &opts)?;
//!
//! // 1.10.17.5 is inside 1.10.16.0/20 and merged away; 198.51.100.7 is documentation
//! // space and 10.0.0.0/8 private: both set aside; 8.8.8.8 is allow-listed.
//! assert_eq!(list.parsed, 5);
//! assert_eq!(list.entries, vec!["1.10.16.0/20".parse()?]);
//! assert_eq!(list.set_aside.len(), 2);
//! assert_eq!(list.allow_listed.len(), 1);
//! assert_eq!(list.bad_lines[0].line, 5);
//! assert_eq!(list.unsupported[0].text, "evil.example.com");
//!
//! let report = serde_json::to_value(list.report())?;
//! assert_eq!(report["entries"], 1);
//! assert_eq!(report["bad_lines"], 1);
//!
//! let matcher = Matcher::from_list(&list);
//! assert_eq!(matcher.lookup("1.10.20.1".parse()?), Some("1.10.16.0/20".parse()?));
//! assert_eq!(matcher.lookup("10.1.2.3".parse()?), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod fetch;
mod hygiene;
mod matcher;
mod parse;
mod snapshot;

pub use fetch::{
    FetchError, FetchOptions, Fetched, RedactedUrl, Source, SourceError, Validators, fetch,
    fetch_url, http_client, sha256_hex,
};
pub use hygiene::{SPECIAL_RANGES, SpecialRange, special_range};
pub use matcher::Matcher;
pub use parse::{
    AllowListError, AllowListed, BadLine, Format, ListReport, ParseError, ParseOptions, ParsedList,
    SetAside, SetAsideReason, Unsupported, host_net, merge, parse_blocklist,
};
pub use snapshot::{
    AcquireError, Acquired, ListDiff, NoFallback, Snapshot, SnapshotError, SnapshotMeta,
    SnapshotStore, acquire, diff_entries,
};
