//! Per-format line readers: a cheap "may this line touch an IoC?" and the full parse.
//!
//! # nfdump JSON
//! `nfdump -o json` writes one array of pretty-printed objects. The reader turns the
//! stream into one object a line (see [`NfJsonFlattener`]), so the same parallel block
//! scan applies; a "line" number in a report of such a file is the object's 1-based
//! position in the array. A record with `out_packets`/`out_bytes` (a bidirectional IPFIX
//! record) gives a second, reverse flow. Times (`first`, `last`) are UTC.
//!
//! # nfdump CSV
//! The header names the columns (`ts,te,td,sa,da,sp,dp,pr,flg,…,ipkt,ibyt,opkt,obyt,…,ra`);
//! the `Summary` footer (`Summary`, `flows,bytes,…`, one line of totals) is skipped.
//! nfdump prints whole seconds in `ts`/`te`, so CSV flows start on the second where the
//! JSON output of the same file has milliseconds. `opkt`/`obyt` give a reverse flow
//! like the JSON's `out_*`.
//!
//! # Argus binetflow (CTU-13)
//! Each row is a bidirectional conversation. It becomes two one-way flows:
//!
//! - src→dst carries `SrcBytes` octets, dst→src carries `TotBytes − SrcBytes`;
//! - packets (the file has only `TotPkts`) are shared in proportion to the bytes, each
//!   side with bytes getting at least one packet;
//! - a side with no bytes (a row whose reverse is empty, e.g. State `S_`) gives no flow,
//!   so such a row gives one flow only (a row with no bytes at all gives one src→dst
//!   flow with every packet);
//! - TCP flags per side come from `State` (`SR_SA`: the part before `_` is what the source
//!   sent, after it what the destination sent; letters `F S R P A U E C`); non-TCP rows
//!   and states without `_` (`CON`, `INT`, …) have no flags;
//! - `Dir` names the initiator: `->`, `?>`, `<->`, `<?>` (and ARP's `who`) the source,
//!   `<-`, `<?` the destination. The initiator's flow comes first in input order (this
//!   decides `first`-mode samples); both flows start at `StartTime` and end `Dur` later;
//! - `StartTime` (`2011/08/18 15:40:53.826372`) carries no zone and is taken as UTC (the
//!   CTU-13 captures are in fact CEST, UTC+2: shift with care when comparing with other
//!   sources);
//! - ports are decimal, or hex for ICMP type/code (`0x0303`), or empty (0); protocol names
//!   without an IANA number here (`arp`, `llc`, `rtp`…) give protocol 0.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::NaiveDateTime;
use flowmodel::{FieldMap, FlowParser, IocSet, RawFlow, protocol_by_name};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::ScanError;
use crate::input::Format;
use crate::prefilter::{Prefilter, parse_ip_bytes};

/// Flows parsed from one line, and the index name the line itself carries (ES hits).
pub(crate) struct Parsed {
    pub flows: Vec<RawFlow>,
    pub index: Option<Arc<str>>,
}

/// How to read the lines of one input.
#[derive(Debug)]
pub(crate) enum LineReader {
    /// JSON Lines (raw documents or ES hits) and flattened nfdump JSON.
    Json {
        kind: Format,
        parser: Box<FlowParser>,
        prefilter: Box<Prefilter>,
    },
    /// nfdump CSV or binetflow, with the column positions from the header.
    Csv { kind: Format, cols: Box<Columns> },
}

/// Column positions of a CSV header.
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns {
    src: usize,
    dst: usize,
    start: usize,
    max_needed: usize,
    end: Option<usize>,
    dur: Option<usize>,
    sport: Option<usize>,
    dport: Option<usize>,
    proto: Option<usize>,
    flags: Option<usize>,
    dir: Option<usize>,
    pkts: Option<usize>,
    bytes: Option<usize>,
    out_pkts: Option<usize>,
    out_bytes: Option<usize>,
    src_bytes: Option<usize>,
    src_as: Option<usize>,
    dst_as: Option<usize>,
    router: Option<usize>,
}

impl LineReader {
    /// The reader for `format`; `header` is the first line of a CSV input.
    pub(crate) fn new(
        format: Format,
        map: &FieldMap,
        header: &[u8],
        file: &str,
    ) -> Result<Self, ScanError> {
        Ok(match format {
            Format::JsonRaw | Format::EsHits => LineReader::Json {
                kind: format,
                parser: Box::new(FlowParser::new(map.clone())),
                prefilter: Box::new(Prefilter::for_field_map(map)),
            },
            Format::NfdumpJson => LineReader::Json {
                kind: format,
                parser: Box::default(),
                prefilter: Box::new(Prefilter::for_keys(
                    ["src4_addr", "src6_addr", "dst4_addr", "dst6_addr"].map(String::from),
                )),
            },
            Format::NfdumpCsv | Format::Binetflow => LineReader::Csv {
                kind: format,
                cols: Box::new(Columns::from_header(format, header, file)?),
            },
        })
    }

    /// Whether the line is a header or footer line of the format, to be skipped.
    pub(crate) fn is_furniture(&self, line: &[u8]) -> bool {
        match self {
            LineReader::Json { .. } => false,
            LineReader::Csv { kind, .. } => {
                if line.starts_with(b"ts,te,") || line.starts_with(b"StartTime,") {
                    return true;
                }
                *kind == Format::NfdumpCsv
                    && (line == b"Summary"
                        || line.starts_with(b"flows,bytes,packets")
                        || is_summary_totals(line))
            }
        }
    }

    /// For the CSV formats: whether the line's address columns hold an IoC (the cheap
    /// check; JSON formats use the block pre-filter instead).
    pub(crate) fn csv_check(&self, line: &[u8], iocs: &dyn IocSet) -> CsvCheck {
        let LineReader::Csv { cols, .. } = self else {
            return CsvCheck::Parse;
        };
        let mut src = None;
        let mut dst = None;
        for (i, f) in line.split(|&c| c == b',').enumerate() {
            if i == cols.src {
                src = Some(f);
            }
            if i == cols.dst {
                dst = Some(f);
            }
            if i >= cols.src.max(cols.dst) {
                break;
            }
        }
        if src.is_some_and(is_mac) || dst.is_some_and(is_mac) {
            return CsvCheck::NonIp;
        }
        let hit = |v: Option<&[u8]>| {
            v.and_then(parse_ip_bytes)
                .is_some_and(|ip| iocs.contains(ip))
        };
        // A line whose address columns do not parse is malformed: let the full parse say so.
        let unparsable = |v: Option<&[u8]>| v.and_then(parse_ip_bytes).is_none();
        if hit(src) || hit(dst) || unparsable(src) || unparsable(dst) {
            CsvCheck::Parse
        } else {
            CsvCheck::Skip
        }
    }

    /// The full parse of one line.
    pub(crate) fn parse(&self, line: &[u8]) -> Result<Parsed, String> {
        match self {
            LineReader::Json { kind, parser, .. } => match kind {
                Format::EsHits => {
                    let hit: Hit<'_> = serde_json::from_slice(line)
                        .map_err(|e| format!("not an Elasticsearch hit: {e}"))?;
                    let source = hit.source.ok_or("hit has no _source")?;
                    let flow = parser
                        .parse(source.get().as_bytes())
                        .map_err(|e| e.to_string())?;
                    Ok(Parsed {
                        flows: vec![flow],
                        index: hit.index.map(|s| Arc::from(s.as_ref())),
                    })
                }
                Format::NfdumpJson => parse_nfdump_json(line),
                _ => Ok(Parsed {
                    flows: vec![parser.parse(line).map_err(|e| e.to_string())?],
                    index: None,
                }),
            },
            LineReader::Csv { kind, cols } => {
                let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_owned())?;
                let fields: Vec<&str> = text.split(',').collect();
                if fields.len() <= cols.max_needed {
                    return Err(format!(
                        "{} fields, the header has at least {}",
                        fields.len(),
                        cols.max_needed + 1
                    ));
                }
                let flows = if *kind == Format::Binetflow {
                    binetflow_row(&fields, cols)?
                } else {
                    nfdump_csv_row(&fields, cols)?
                };
                Ok(Parsed { flows, index: None })
            }
        }
    }
}

/// What the cheap check of a CSV line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CsvCheck {
    /// No IoC in the address columns.
    Skip,
    /// A record of a non-IP frame (Argus writes MAC addresses for ARP, LLC, …).
    NonIp,
    /// Parse in full.
    Parse,
}

/// `00:15:17:2c:e5:2d`: a MAC address, as Argus writes for non-IP frames.
fn is_mac(v: &[u8]) -> bool {
    let v = v.trim_ascii();
    v.len() == 17
        && v.iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b':'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[derive(Deserialize)]
struct Hit<'a> {
    #[serde(rename = "_index", borrow, default)]
    index: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "_source", borrow, default)]
    source: Option<&'a RawValue>,
}

fn is_summary_totals(line: &[u8]) -> bool {
    let n = line.split(|&c| c == b',').count();
    n == 6
        && line
            .iter()
            .all(|c| c.is_ascii_digit() || *c == b',' || *c == b'.')
}

impl Columns {
    fn from_header(format: Format, header: &[u8], file: &str) -> Result<Self, ScanError> {
        let text = String::from_utf8_lossy(header);
        let names: Vec<&str> = text.trim_end().split(',').map(str::trim).collect();
        let find = |n: &str| names.iter().position(|h| *h == n);
        let need = |n: &'static str| {
            find(n).ok_or(ScanError::MissingColumn {
                file: file.to_owned(),
                column: n,
            })
        };
        let c = if format == Format::Binetflow {
            Columns {
                src: need("SrcAddr")?,
                dst: need("DstAddr")?,
                start: need("StartTime")?,
                dur: find("Dur"),
                sport: find("Sport"),
                dport: find("Dport"),
                proto: find("Proto"),
                flags: find("State"),
                dir: find("Dir"),
                pkts: find("TotPkts"),
                bytes: find("TotBytes"),
                src_bytes: find("SrcBytes"),
                ..Columns::default()
            }
        } else {
            Columns {
                src: need("sa")?,
                dst: need("da")?,
                start: need("ts")?,
                end: find("te"),
                sport: find("sp"),
                dport: find("dp"),
                proto: find("pr"),
                flags: find("flg"),
                pkts: find("ipkt"),
                bytes: find("ibyt"),
                out_pkts: find("opkt"),
                out_bytes: find("obyt"),
                src_as: find("sas"),
                dst_as: find("das"),
                router: find("ra"),
                ..Columns::default()
            }
        };
        let max_needed = c.src.max(c.dst).max(c.start);
        Ok(Columns { max_needed, ..c })
    }
}

fn field<'a>(f: &[&'a str], i: Option<usize>) -> &'a str {
    i.and_then(|i| f.get(i)).map_or("", |s| s.trim())
}

fn num(f: &[&str], i: Option<usize>, what: &str) -> Result<u64, String> {
    let s = field(f, i);
    if s.is_empty() {
        return Ok(0);
    }
    s.parse::<u64>()
        .or_else(|_| s.parse::<f64>().map(|x| x as u64))
        .map_err(|_| format!("{what} {s:?} is not a number"))
}

fn port(s: &str, what: &str) -> Result<u16, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(0);
    }
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16).ok(),
        None => s.parse::<u16>().ok(),
    };
    parsed.ok_or_else(|| format!("{what} {s:?} is not a port"))
}

fn ip(s: &str, what: &str) -> Result<IpAddr, String> {
    parse_ip_bytes(s.as_bytes()).ok_or_else(|| format!("{what} {s:?} is not an IP address"))
}

fn time_ms(s: &str, formats: &[&str], what: &str) -> Result<i64, String> {
    let s = s.trim();
    formats
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| format!("{what} {s:?} is not a time"))
}

/// nfdump's flag string (`...AP.SF`, or `0x12`) as TCP control bits.
fn nfdump_flags(s: &str) -> u16 {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x") {
        return u16::from_str_radix(hex, 16).unwrap_or(0);
    }
    if let Ok(n) = s.parse::<u16>() {
        return n;
    }
    let b = s.as_bytes();
    let mut bits = 0u16;
    for (i, c) in b.iter().enumerate().take(8) {
        if *c != b'.' && b.len() == 8 {
            bits |= 1 << (7 - i);
        }
    }
    bits
}

/// Argus state letters as TCP control bits.
fn argus_flags(s: &str) -> u16 {
    s.bytes()
        .map(|c| match c {
            b'F' => 0x01,
            b'S' => 0x02,
            b'R' => 0x04,
            b'P' => 0x08,
            b'A' => 0x10,
            b'U' => 0x20,
            b'E' => 0x40,
            b'C' => 0x80,
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

fn proto(s: &str) -> u8 {
    protocol_by_name(s).unwrap_or(0)
}

const NFDUMP_TIME: [&str; 2] = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"];
const ARGUS_TIME: [&str; 1] = ["%Y/%m/%d %H:%M:%S%.f"];

fn base_flow(src: IpAddr, dst: IpAddr) -> RawFlow {
    RawFlow {
        src,
        dst,
        src_port: 0,
        dst_port: 0,
        protocol: 0,
        tcp_flags: 0,
        octets: 0,
        packets: 0,
        start_ms: 0,
        end_ms: None,
        exporter: None,
        src_as: 0,
        dst_as: 0,
        src_geo: None,
        dst_geo: None,
    }
}

/// The reverse of a flow: addresses, ports and AS numbers swapped.
fn reversed(f: &RawFlow, packets: u64, octets: u64) -> RawFlow {
    RawFlow {
        src: f.dst,
        dst: f.src,
        src_port: f.dst_port,
        dst_port: f.src_port,
        src_as: f.dst_as,
        dst_as: f.src_as,
        src_geo: f.dst_geo.clone(),
        dst_geo: f.src_geo.clone(),
        packets,
        octets,
        ..f.clone()
    }
}

fn nfdump_csv_row(f: &[&str], c: &Columns) -> Result<Vec<RawFlow>, String> {
    let mut flow = base_flow(
        ip(field(f, Some(c.src)), "sa")?,
        ip(field(f, Some(c.dst)), "da")?,
    );
    flow.start_ms = time_ms(field(f, Some(c.start)), &NFDUMP_TIME, "ts")?;
    let te = field(f, c.end);
    flow.end_ms = if te.is_empty() {
        None
    } else {
        Some(time_ms(te, &NFDUMP_TIME, "te")?)
    };
    flow.src_port = port(field(f, c.sport), "sp")?;
    flow.dst_port = port(field(f, c.dport), "dp")?;
    flow.protocol = proto(field(f, c.proto));
    flow.tcp_flags = nfdump_flags(field(f, c.flags));
    flow.packets = num(f, c.pkts, "ipkt")?;
    flow.octets = num(f, c.bytes, "ibyt")?;
    flow.src_as = num(f, c.src_as, "sas")? as u32;
    flow.dst_as = num(f, c.dst_as, "das")? as u32;
    flow.exporter = parse_ip_bytes(field(f, c.router).as_bytes());
    let (op, ob) = (num(f, c.out_pkts, "opkt")?, num(f, c.out_bytes, "obyt")?);
    let mut out = vec![flow];
    if op > 0 || ob > 0 {
        out.push(reversed(&out[0], op, ob));
    }
    Ok(out)
}

fn binetflow_row(f: &[&str], c: &Columns) -> Result<Vec<RawFlow>, String> {
    let src = ip(field(f, Some(c.src)), "SrcAddr")?;
    let dst = ip(field(f, Some(c.dst)), "DstAddr")?;
    let start = time_ms(field(f, Some(c.start)), &ARGUS_TIME, "StartTime")?;
    let dur = field(f, c.dur);
    let dur_ms = if dur.is_empty() {
        0
    } else {
        (dur.parse::<f64>()
            .map_err(|_| format!("Dur {dur:?} is not a number"))?
            * 1000.0)
            .round() as i64
    };
    let protocol = proto(field(f, c.proto));
    let tot_pkts = num(f, c.pkts, "TotPkts")?;
    let tot_bytes = num(f, c.bytes, "TotBytes")?;
    let src_bytes = num(f, c.src_bytes, "SrcBytes")?.min(tot_bytes);
    let dst_bytes = tot_bytes - src_bytes;
    let state = field(f, c.flags);
    let (sflags, dflags) = match (protocol, state.split_once('_')) {
        (6, Some((s, d))) => (argus_flags(s), argus_flags(d)),
        _ => (0, 0),
    };
    let dst_initiates = matches!(field(f, c.dir), "<-" | "<?");

    let (src_pkts, dst_pkts) = if src_bytes > 0 && dst_bytes > 0 && tot_pkts >= 2 {
        let share = ((tot_pkts as f64) * (src_bytes as f64) / (tot_bytes as f64)).round() as u64;
        let s = share.clamp(1, tot_pkts - 1);
        (s, tot_pkts - s)
    } else if dst_bytes > 0 && src_bytes == 0 {
        (0, tot_pkts)
    } else {
        (tot_pkts, 0)
    };

    let mut fwd = base_flow(src, dst);
    fwd.src_port = port(field(f, c.sport), "Sport")?;
    fwd.dst_port = port(field(f, c.dport), "Dport")?;
    fwd.protocol = protocol;
    fwd.start_ms = start;
    fwd.end_ms = Some(start + dur_ms);
    fwd.tcp_flags = sflags;
    fwd.packets = src_pkts;
    fwd.octets = src_bytes;
    let mut rev = reversed(&fwd, dst_pkts, dst_bytes);
    rev.tcp_flags = dflags;

    let has_fwd = src_bytes > 0 || dst_bytes == 0;
    let has_rev = dst_bytes > 0;
    let mut out = Vec::with_capacity(2);
    match (has_fwd, has_rev, dst_initiates) {
        (true, true, true) => out.extend([rev, fwd]),
        (true, true, false) => out.extend([fwd, rev]),
        (true, false, _) => out.push(fwd),
        (false, _, _) => out.push(rev),
    }
    Ok(out)
}

#[derive(Deserialize)]
struct NfJson<'a> {
    #[serde(borrow, default)]
    src4_addr: Option<&'a str>,
    #[serde(borrow, default)]
    src6_addr: Option<&'a str>,
    #[serde(borrow, default)]
    dst4_addr: Option<&'a str>,
    #[serde(borrow, default)]
    dst6_addr: Option<&'a str>,
    #[serde(default)]
    src_port: u16,
    #[serde(default)]
    dst_port: u16,
    #[serde(default)]
    proto: u8,
    #[serde(default)]
    icmp_type: Option<u8>,
    #[serde(default)]
    icmp_code: Option<u8>,
    #[serde(borrow, default)]
    tcp_flags: Option<&'a str>,
    #[serde(default)]
    in_packets: u64,
    #[serde(default)]
    in_bytes: u64,
    #[serde(default)]
    out_packets: u64,
    #[serde(default)]
    out_bytes: u64,
    #[serde(borrow, default)]
    first: Option<&'a str>,
    #[serde(borrow, default)]
    last: Option<&'a str>,
    #[serde(borrow, default)]
    ip4_router: Option<&'a str>,
    #[serde(borrow, default)]
    ip6_router: Option<&'a str>,
    #[serde(default)]
    src_as: u32,
    #[serde(default)]
    dst_as: u32,
}

fn parse_nfdump_json(line: &[u8]) -> Result<Parsed, String> {
    let r: NfJson<'_> =
        serde_json::from_slice(line).map_err(|e| format!("not an nfdump record: {e}"))?;
    let src = r
        .src4_addr
        .or(r.src6_addr)
        .ok_or("no src4_addr/src6_addr")?;
    let dst = r
        .dst4_addr
        .or(r.dst6_addr)
        .ok_or("no dst4_addr/dst6_addr")?;
    let mut flow = base_flow(ip(src, "src_addr")?, ip(dst, "dst_addr")?);
    flow.src_port = r.src_port;
    flow.dst_port = r.dst_port;
    flow.protocol = r.proto;
    if let Some(t) = r.icmp_type {
        // NetFlow's convention, which nfdump's CSV prints too: type and code in the
        // destination port.
        flow.dst_port = u16::from(t) << 8 | u16::from(r.icmp_code.unwrap_or(0));
    }
    flow.tcp_flags = r.tcp_flags.map_or(0, nfdump_flags);
    flow.packets = r.in_packets;
    flow.octets = r.in_bytes;
    flow.start_ms = match r.first {
        Some(t) => time_ms(t, &NFDUMP_TIME, "first")?,
        None => 0,
    };
    flow.end_ms = r
        .last
        .map(|t| time_ms(t, &NFDUMP_TIME, "last"))
        .transpose()?;
    flow.exporter = r
        .ip4_router
        .or(r.ip6_router)
        .and_then(|s| parse_ip_bytes(s.as_bytes()));
    flow.src_as = r.src_as;
    flow.dst_as = r.dst_as;
    let mut flows = vec![flow];
    if r.out_packets > 0 || r.out_bytes > 0 {
        flows.push(reversed(&flows[0], r.out_packets, r.out_bytes));
    }
    Ok(Parsed { flows, index: None })
}

/// Turns nfdump's JSON array (`[`, pretty-printed objects separated by `,`, `]`) into
/// one compact-enough object a line, streaming: newlines inside an object become
/// spaces, and a newline follows each top-level object. Bytes between top-level objects
/// (`[`, `,`, `]`, blanks) are dropped; anything else there is kept on a line of its own,
/// so it is reported as malformed.
#[derive(Debug, Default)]
pub(crate) struct NfJsonFlattener {
    depth: u32,
    in_str: bool,
    escaped: bool,
    stray: bool,
}

impl NfJsonFlattener {
    /// Flattens `input` into `out`, keeping state across calls.
    pub(crate) fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len());
        for &c in input {
            if self.depth == 0 {
                match c {
                    b'{' => {
                        if self.stray {
                            out.push(b'\n');
                            self.stray = false;
                        }
                        self.depth = 1;
                        out.push(c);
                    }
                    b'[' | b']' | b',' | b' ' | b'\t' | b'\r' | b'\n' => {
                        if c == b'\n' && self.stray {
                            out.push(b'\n');
                            self.stray = false;
                        }
                    }
                    _ => {
                        self.stray = true;
                        out.push(c);
                    }
                }
                continue;
            }
            if self.in_str {
                if self.escaped {
                    self.escaped = false;
                } else if c == b'\\' {
                    self.escaped = true;
                } else if c == b'"' {
                    self.in_str = false;
                }
                out.push(if c == b'\n' { b' ' } else { c });
                continue;
            }
            match c {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth -= 1,
                _ => {}
            }
            out.push(match c {
                b'\n' | b'\t' => b' ',
                _ => c,
            });
            if self.depth == 0 {
                out.push(b'\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfdump_flag_string_maps_each_position_to_its_bit() {
        assert_eq!(nfdump_flags("...A..S."), 0x12);
        assert_eq!(nfdump_flags("...AP.SF"), 0x1b);
        assert_eq!(nfdump_flags(".....R.."), 0x04);
        assert_eq!(nfdump_flags("........"), 0);
    }

    fn binet(row: &str) -> Vec<RawFlow> {
        let header = b"StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label";
        let r = LineReader::new(Format::Binetflow, &FieldMap::default(), header, "t").unwrap();
        r.parse(row.as_bytes()).map(|p| p.flows).unwrap()
    }

    #[test]
    fn binetflow_reverse_initiator_puts_the_destination_flow_first() {
        let f = binet(
            "2011/08/18 15:40:53.5,1.5,tcp,10.0.0.1,80,  <-,10.0.0.2,5555,PA_SPA,0,0,10,1000,400,flow=x",
        );
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].src.to_string(), "10.0.0.2");
        assert_eq!((f[0].octets, f[1].octets), (600, 400));
        assert_eq!((f[0].packets, f[1].packets), (6, 4));
        assert_eq!((f[0].tcp_flags, f[1].tcp_flags), (0x1a, 0x18));
        assert_eq!(f[0].end_ms, Some(f[0].start_ms + 1500));
    }

    #[test]
    fn binetflow_syn_without_answer_is_one_flow() {
        let f = binet(
            "2011/08/18 15:40:53.5,0,tcp,10.0.0.1,1025,   ->,10.0.0.2,445,S_,0,,2,124,124,flow=x",
        );
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].packets, f[0].octets, f[0].tcp_flags), (2, 124, 0x02));
        let icmp = binet(
            "2011/08/18 15:40:53.5,0,icmp,10.0.0.1,0x0008,   ->,10.0.0.2,0x0303,ECO,0,,1,60,60,flow=x",
        );
        assert_eq!(
            (icmp[0].src_port, icmp[0].dst_port, icmp[0].tcp_flags),
            (8, 0x0303, 0)
        );
    }

    #[test]
    fn flattener_splits_pretty_array_into_lines_even_across_pushes() {
        let text = b"[\n{\n\t\"a\" : \"x}\\\"\",\n\t\"b\" : {\"c\":1}\n},\n{\n\t\"a\" : 2\n}]\n";
        let mut whole = Vec::new();
        NfJsonFlattener::default().push(text, &mut whole);
        let mut split = Vec::new();
        let mut f = NfJsonFlattener::default();
        for part in text.chunks(3) {
            f.push(part, &mut split);
        }
        assert_eq!(whole, split);
        let lines: Vec<&[u8]> = whole
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_slice(lines[0]).unwrap();
        assert_eq!(v["a"], "x}\"");
    }
}
