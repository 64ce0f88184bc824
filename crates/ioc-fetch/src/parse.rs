//! Blocklist parsing: format detection, line classification, hygiene and merging.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::hygiene::{SpecialRange, special_range};

/// Column names (lower-cased, quotes removed) recognised as "the IP column" of a CSV
/// header, in order of preference.
const IP_COLUMNS: [&str; 10] = [
    "dst_ip",
    "ip",
    "ip_address",
    "ipaddress",
    "dstip",
    "ioc",
    "indicator",
    "address",
    "src_ip",
    "network",
];

/// How a blocklist is parsed and which entries are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ParseOptions {
    /// IPv4 entries with a prefix shorter than this (wider networks) are set aside.
    /// Default 16: a /15 is set aside, a /16 is kept.
    pub widest_prefix_v4: u8,
    /// IPv6 entries with a prefix shorter than this are set aside. Default 32.
    pub widest_prefix_v6: u8,
    /// Keep entries wider than the limits above instead of setting them aside.
    pub allow_wide: bool,
    /// Keep entries that overlap private, loopback, link-local, multicast,
    /// documentation or otherwise reserved space instead of setting them aside.
    pub allow_special: bool,
    /// Maximum number of entries read; a longer list is an error. Default 1,000,000.
    pub max_entries: usize,
    /// Name of the CSV column that holds the address; `None` auto-detects it.
    pub csv_column: Option<String>,
    /// Addresses and networks that must never be IoCs (the NOC's own infrastructure,
    /// public resolvers, CDNs…). An entry overlapping any of them is removed.
    pub allow_list: Vec<IpNet>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            widest_prefix_v4: 16,
            widest_prefix_v6: 32,
            allow_wide: false,
            allow_special: false,
            max_entries: 1_000_000,
            csv_column: None,
            allow_list: Vec::new(),
        }
    }
}

impl ParseOptions {
    /// Options for reading an allow-list: every entry is kept, however wide or special.
    pub fn permissive() -> Self {
        Self {
            allow_wide: true,
            allow_special: true,
            ..Self::default()
        }
    }

    /// Reads an allow-list file (see [`ParseOptions::with_allow_list_bytes`]).
    pub fn with_allow_list_file(self, path: &std::path::Path) -> Result<Self, AllowListError> {
        let bytes = std::fs::read(path).map_err(|e| AllowListError {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        self.with_allow_list_bytes(&bytes)
            .map_err(|e| AllowListError {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
    }

    /// Reads an allow-list (any format [`parse_blocklist`] accepts; nothing is set
    /// aside) and installs it. An entry overlapping an allowed network is removed
    /// whole, even a blocklisted /24 around one allowed address: the matcher cannot
    /// carve holes, and a false accusation costs more than a missed one.
    pub fn with_allow_list_bytes(mut self, bytes: &[u8]) -> Result<Self, ParseError> {
        let list = parse_blocklist(bytes, &ParseOptions::permissive())?;
        self.allow_list = list.entries;
        Ok(self)
    }
}

/// An allow-list file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allow-list {path}: {reason}")]
pub struct AllowListError {
    /// The file.
    pub path: std::path::PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// Why a whole body was rejected. A rejected body never replaces a good list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but whitespace.
    #[error("the blocklist body is empty")]
    Empty,
    /// An HTML page (an error or login page served instead of the list).
    #[error("the blocklist body is an HTML page, not a list (first line: {first_line:?})")]
    Html {
        /// The first non-blank line, trimmed and shortened.
        first_line: String,
    },
    /// Lines were read but none was a usable entry.
    #[error(
        "the blocklist has no entries ({bad_lines} bad lines, {unsupported} unsupported, {comments} comments)"
    )]
    NoEntries {
        /// Lines that were neither entries nor comments.
        bad_lines: usize,
        /// Host names and URLs.
        unsupported: usize,
        /// Comment lines.
        comments: usize,
    },
    /// More entries than [`ParseOptions::max_entries`].
    #[error("the blocklist has more than {limit} entries")]
    TooManyEntries {
        /// The configured limit.
        limit: usize,
    },
}

/// The layout detected in a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Format {
    /// One address or network a line, optionally followed by a comment.
    Lines,
    /// CSV; the address is taken from the named (or numbered) column.
    Csv {
        /// Zero-based column index.
        column: usize,
        /// The header name of that column, if the file had a header.
        header: Option<String>,
    },
}

/// A line that is neither an entry nor a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadLine {
    /// One-based line number.
    pub line: usize,
    /// The line, trimmed (at most 200 characters).
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A line holding an indicator this crate cannot match on (a host name or URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsupported {
    /// One-based line number.
    pub line: usize,
    /// The host name or URL.
    pub text: String,
    /// `"host name"` or `"URL"`.
    pub kind: String,
}

/// Why an entry was set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SetAsideReason {
    /// The entry overlaps special-purpose space (private, loopback…).
    Special {
        /// The special range it overlaps.
        range: IpNet,
        /// What that range is.
        category: SpecialRange,
    },
    /// The entry is wider than the configured limit.
    TooWide {
        /// The entry's prefix length.
        prefix_len: u8,
        /// The widest prefix length accepted.
        widest_allowed: u8,
    },
}

impl std::fmt::Display for SetAsideReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Special { range, category } => write!(f, "{} space ({range})", category.label()),
            Self::TooWide {
                prefix_len,
                widest_allowed,
            } => write!(f, "too wide: /{prefix_len} is wider than /{widest_allowed}"),
        }
    }
}

/// An entry kept out of the usable list by the hygiene rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAside {
    /// The entry.
    pub entry: IpNet,
    /// Its one-based line number.
    pub line: usize,
    /// Why it was set aside.
    pub reason: SetAsideReason,
}

/// An entry removed because it overlaps the allow-list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowListed {
    /// The entry.
    pub entry: IpNet,
    /// Its one-based line number.
    pub line: usize,
    /// The allow-list network it overlaps.
    pub allowed_by: IpNet,
}

/// A parsed blocklist.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ParsedList {
    /// The usable entries after hygiene, allow-list and merging: sorted, without
    /// duplicates or entries covered by a wider one; single addresses as /32 or /128.
    pub entries: Vec<IpNet>,
    /// Entries read (valid address or network lines) before hygiene and merging.
    pub parsed: usize,
    /// The detected layout.
    pub format: Option<Format>,
    /// Comment lines (whole-line comments, CSV header included).
    pub comments: usize,
    /// Lines that are neither an entry nor a comment.
    pub bad_lines: Vec<BadLine>,
    /// Host names and URLs.
    pub unsupported: Vec<Unsupported>,
    /// Entries set aside by the hygiene rules.
    pub set_aside: Vec<SetAside>,
    /// Entries removed by the allow-list.
    pub allow_listed: Vec<AllowListed>,
    /// Entries dropped as exact duplicates of an earlier entry.
    pub duplicates: usize,
    /// Entries dropped because a wider entry covers them.
    pub covered: usize,
}

/// The summary the CLI prints for `iocflow blocklist show --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListReport<'a> {
    /// Entries read, before hygiene.
    pub parsed: usize,
    /// Usable entries after hygiene, allow-list and merging.
    pub entries: usize,
    /// Usable entries that are networks (not single addresses).
    pub networks: usize,
    /// Entries set aside.
    pub set_aside: usize,
    /// Bad lines.
    pub bad_lines: usize,
    /// Host names and URLs.
    pub unsupported: usize,
    /// Entries removed by the allow-list.
    pub allow_listed: usize,
    /// Duplicates dropped.
    pub duplicates: usize,
    /// Entries covered by a wider entry.
    pub covered: usize,
    /// The usable entries.
    pub entry_list: &'a [IpNet],
    /// The set-aside entries with reasons.
    pub set_aside_list: &'a [SetAside],
    /// The bad lines with line numbers and reasons.
    pub bad_line_list: &'a [BadLine],
    /// The unsupported lines.
    pub unsupported_list: &'a [Unsupported],
    /// What the allow-list removed.
    pub allow_listed_list: &'a [AllowListed],
}

impl ParsedList {
    /// Usable entries that are networks rather than single addresses.
    pub fn network_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|n| n.prefix_len() < n.max_prefix_len())
            .count()
    }

    /// The report object (counts and the lists behind them) for JSON output.
    pub fn report(&self) -> ListReport<'_> {
        ListReport {
            parsed: self.parsed,
            entries: self.entries.len(),
            networks: self.network_count(),
            set_aside: self.set_aside.len(),
            bad_lines: self.bad_lines.len(),
            unsupported: self.unsupported.len(),
            allow_listed: self.allow_listed.len(),
            duplicates: self.duplicates,
            covered: self.covered,
            entry_list: &self.entries,
            set_aside_list: &self.set_aside,
            bad_line_list: &self.bad_lines,
            unsupported_list: &self.unsupported,
            allow_listed_list: &self.allow_listed,
        }
    }
}

/// What one line turned out to be.
enum Line {
    Blank,
    Comment,
    Entry(IpNet),
    Bad(String),
    Unsupported(&'static str),
}

fn is_comment(s: &str) -> bool {
    s.starts_with('#') || s.starts_with(';') || s.starts_with("//")
}

/// Cuts a trailing comment (`; SBL123`, `# note`, `// note`) off an entry.
fn strip_trailing_comment(s: &str) -> &str {
    let mut end = s.len();
    for pat in ["#", ";", "//"] {
        if let Some(i) = s.find(pat) {
            end = end.min(i);
        }
    }
    s[..end].trim()
}

fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

/// Whether `s` looks like a DNS host name (letters, digits, hyphens, dots; an
/// alphabetic top-level label).
fn looks_like_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.len() > 253 || !s.contains('.') {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let ok_labels = labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    let tld_alpha = labels
        .last()
        .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic() || c == '-'));
    ok_labels && tld_alpha
}

/// Parses one entry token: an address or a network in CIDR notation.
fn parse_entry(token: &str) -> Result<IpNet, Line> {
    if token.contains('/') {
        match token.parse::<IpNet>() {
            Ok(net) => {
                if net.trunc() != net {
                    Err(Line::Bad(format!(
                        "host bits set in network (the network would be {})",
                        net.trunc()
                    )))
                } else {
                    Ok(normalize_net(net))
                }
            }
            Err(_) if token.contains("://") => Err(Line::Unsupported("URL")),
            Err(_) => Err(Line::Bad("not a valid address or network".to_string())),
        }
    } else if let Ok(ip) = token.parse::<IpAddr>() {
        Ok(IpNet::from(flowmodel::normalize_ip(ip)))
    } else if token.contains('-') && token.split('-').all(|p| p.parse::<IpAddr>().is_ok()) {
        Err(Line::Bad("address ranges are not supported".to_string()))
    } else if looks_like_hostname(token) {
        Err(Line::Unsupported("host name"))
    } else {
        Err(Line::Bad("not a valid address or network".to_string()))
    }
}

/// Turns an IPv4-mapped IPv6 network (`::ffff:1.2.3.0/120`) into its IPv4 network.
fn normalize_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net
        && let Some(v4) = v6.network().to_ipv4_mapped()
        && v6.prefix_len() >= 96
        && let Ok(n) = Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return IpNet::V4(n);
    }
    net
}

fn csv_fields(line: &str) -> Vec<String> {
    // Simple CSV: fields separated by commas, optional double quotes, `""` escapes.
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => fields.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    fields.push(cur.trim().to_string());
    fields
}

fn find_ip_column(fields: &[String], wanted: Option<&str>) -> Option<usize> {
    let lower: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
    if let Some(w) = wanted {
        let w = w.to_ascii_lowercase();
        return lower.iter().position(|f| *f == w);
    }
    IP_COLUMNS
        .iter()
        .find_map(|name| lower.iter().position(|f| f == name))
}

struct Reader<'o> {
    opts: &'o ParseOptions,
    format: Option<Format>,
}

impl Reader<'_> {
    fn classify(&mut self, trimmed: &str) -> Line {
        if trimmed.is_empty() {
            return Line::Blank;
        }
        if is_comment(trimmed) {
            return Line::Comment;
        }
        if self.format.is_none() {
            self.format = Some(self.detect(trimmed));
            if let Some(Format::Csv {
                header: Some(_), ..
            }) = self.format
            {
                return Line::Comment;
            }
        }
        match &self.format {
            Some(Format::Csv { column, .. }) => {
                let fields = csv_fields(trimmed);
                match fields.get(*column) {
                    Some(f) if !f.is_empty() => match parse_entry(f) {
                        Ok(net) => Line::Entry(net),
                        Err(Line::Bad(r)) => Line::Bad(format!("column {}: {r}", column + 1)),
                        Err(other) => other,
                    },
                    _ => Line::Bad(format!("no value in column {}", column + 1)),
                }
            }
            _ => {
                let first = trimmed.split_whitespace().next().unwrap_or("");
                if first.contains("://") {
                    return Line::Unsupported("URL");
                }
                let entry = strip_trailing_comment(trimmed);
                let mut parts = entry.split_whitespace();
                let token = parts.next().unwrap_or("");
                if parts.next().is_some() {
                    return match parse_entry(token) {
                        Ok(_) => Line::Bad("unexpected text after the entry".to_string()),
                        Err(other) => other,
                    };
                }
                match parse_entry(token) {
                    Ok(net) => Line::Entry(net),
                    Err(other) => other,
                }
            }
        }
    }

    /// Decides the format from the first line that is neither blank nor a comment.
    fn detect(&self, first: &str) -> Format {
        if !first.contains(',') && self.opts.csv_column.is_none() {
            return Format::Lines;
        }
        let fields = csv_fields(first);
        if let Some(col) = find_ip_column(&fields, self.opts.csv_column.as_deref()) {
            return Format::Csv {
                column: col,
                header: fields.get(col).cloned(),
            };
        }
        if let Some(col) = fields.iter().position(|f| parse_entry(f).is_ok()) {
            return Format::Csv {
                column: col,
                header: None,
            };
        }
        Format::Lines
    }
}

fn looks_like_html(text: &str) -> bool {
    let t = text.trim_start().as_bytes();
    let head: Vec<u8> = t.iter().take(64).map(|b| b.to_ascii_lowercase()).collect();
    head.starts_with(b"<!doctype html")
        || head.starts_with(b"<html")
        || head.starts_with(b"<head")
        || head.starts_with(b"<body")
        || head.starts_with(b"<?xml")
        || (head.starts_with(b"<") && head.windows(5).any(|w| w == b"<html"))
}

/// Parses a blocklist body in any supported format (auto-detected).
///
/// Handles plain address and CIDR lists, `#`/`;`/`//` comments (whole-line or after
/// the entry), CSV with a header (the IP column by name), FireHOL sets, IPv6, a UTF-8
/// BOM, CRLF, a missing final newline and surrounding whitespace. Bad lines, host names
/// and set-aside entries are reported; the rest of the list is still used.
///
/// Errors when the body is empty, HTML, has no usable entry before hygiene, or has more
/// than [`ParseOptions::max_entries`] entries.
pub fn parse_blocklist(bytes: &[u8], opts: &ParseOptions) -> Result<ParsedList, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
    if looks_like_html(&head) {
        let first_line = head.trim_start().lines().next().unwrap_or("").trim();
        return Err(ParseError::Html {
            first_line: shorten(first_line),
        });
    }

    let allow = AllowIndex::new(&opts.allow_list);
    let mut reader = Reader { opts, format: None };
    let mut list = ParsedList::default();
    // (entry, line) in reading order, after hygiene.
    let mut kept: Vec<(IpNet, usize)> = Vec::new();

    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(_) => {
                list.bad_lines.push(BadLine {
                    line: line_no,
                    text: shorten(String::from_utf8_lossy(raw).trim()),
                    reason: "not valid UTF-8".to_string(),
                });
                continue;
            }
        };
        let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        match reader.classify(trimmed) {
            Line::Blank => {}
            Line::Comment => list.comments += 1,
            Line::Bad(reason) => list.bad_lines.push(BadLine {
                line: line_no,
                text: shorten(trimmed),
                reason,
            }),
            Line::Unsupported(kind) => list.unsupported.push(Unsupported {
                line: line_no,
                text: shorten(trimmed),
                kind: kind.to_string(),
            }),
            Line::Entry(net) => {
                list.parsed += 1;
                if list.parsed > opts.max_entries {
                    return Err(ParseError::TooManyEntries {
                        limit: opts.max_entries,
                    });
                }
                if let Some(reason) = hygiene_reason(net, opts) {
                    list.set_aside.push(SetAside {
                        entry: net,
                        line: line_no,
                        reason,
                    });
                } else if let Some(allowed) = allow.overlapping(&net) {
                    list.allow_listed.push(AllowListed {
                        entry: net,
                        line: line_no,
                        allowed_by: allowed,
                    });
                } else {
                    kept.push((net, line_no));
                }
            }
        }
    }
    list.format = reader.format;
    if list.parsed == 0 {
        return Err(ParseError::NoEntries {
            bad_lines: list.bad_lines.len(),
            unsupported: list.unsupported.len(),
            comments: list.comments,
        });
    }
    let (entries, duplicates, covered) = merge(kept.into_iter().map(|(n, _)| n).collect());
    list.entries = entries;
    list.duplicates = duplicates;
    list.covered = covered;
    Ok(list)
}

fn hygiene_reason(net: IpNet, opts: &ParseOptions) -> Option<SetAsideReason> {
    if !opts.allow_special
        && let Some((range, category)) = special_range(&net)
    {
        return Some(SetAsideReason::Special { range, category });
    }
    if !opts.allow_wide {
        let widest = match net {
            IpNet::V4(_) => opts.widest_prefix_v4,
            IpNet::V6(_) => opts.widest_prefix_v6,
        };
        if net.prefix_len() < widest {
            return Some(SetAsideReason::TooWide {
                prefix_len: net.prefix_len(),
                widest_allowed: widest,
            });
        }
    }
    None
}

/// The allow-list, merged (disjoint) and sorted so an overlap is two binary searches.
struct AllowIndex(Vec<IpNet>);

impl AllowIndex {
    fn new(nets: &[IpNet]) -> Self {
        Self(merge(nets.iter().map(|n| normalize_net(n.trunc())).collect()).0)
    }

    /// An allow-list network sharing an address with `net`, if any. CIDRs overlap only
    /// when one contains the other: either the allowed network starting at or before
    /// `net` contains it, or an allowed network starts inside `net`.
    fn overlapping(&self, net: &IpNet) -> Option<IpNet> {
        if self.0.is_empty() {
            return None;
        }
        let key = |n: &IpNet| (matches!(n, IpNet::V6(_)), n.network());
        let k = key(net);
        let i = self.0.partition_point(|a| key(a) <= k);
        if i > 0 && self.0[i - 1].contains(net) {
            return Some(self.0[i - 1]);
        }
        let j = self.0.partition_point(|a| key(a) < k);
        self.0.get(j).filter(|a| net.contains(*a)).copied()
    }
}

/// Sorts, drops duplicates and entries covered by a wider entry. Returns the merged
/// list, the number of duplicates and the number of covered entries dropped.
pub fn merge(mut nets: Vec<IpNet>) -> (Vec<IpNet>, usize, usize) {
    let before = nets.len();
    // Sort by family, network address, then widest first, so a covering network comes
    // before everything it covers.
    nets.sort_unstable_by(|a, b| {
        let key = |n: &IpNet| (matches!(n, IpNet::V6(_)), n.network(), n.prefix_len());
        key(a).cmp(&key(b))
    });
    nets.dedup();
    let duplicates = before - nets.len();
    let mut out: Vec<IpNet> = Vec::with_capacity(nets.len());
    for n in nets {
        match out.last() {
            Some(last) if last.contains(&n) => {}
            _ => out.push(n),
        }
    }
    let covered = before - duplicates - out.len();
    (out, duplicates, covered)
}

/// Makes an [`IpNet`] for a single address (`/32` or `/128`), normalising
/// IPv4-mapped IPv6.
pub fn host_net(ip: IpAddr) -> IpNet {
    match flowmodel::normalize_ip(ip) {
        IpAddr::V4(v4) => IpNet::V4(Ipv4Net::from(v4)),
        IpAddr::V6(v6) => IpNet::V6(Ipv6Net::from(v6)),
    }
}
